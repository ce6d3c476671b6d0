"""WebFinger (RFC 7033) for the blog's one account, pure: resource parsing and the JRD document."""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from fedblog.urls import Urls

JRD_CONTENT_TYPE = "application/jrd+json"
XRD_CONTENT_TYPE = "application/xrd+xml"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
MAX_RESOURCE_LENGTH = 1000


class Lookup(enum.Enum):
    FOUND = "found"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"


def canonical_host(urls: Urls) -> str:
    """The host part of the handle: the hostname, with the port only when it is not the scheme's default
    (a lookup of user@host goes to https://host/.well-known/webfinger, so a custom port must be kept)."""
    parts = urlsplit(urls.base)
    hostname = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return hostname if parts.port in (None, default) else f"{hostname}:{parts.port}"


def subject(urls: Urls) -> str:
    return f"acct:{urls.username}@{canonical_host(urls)}"


def accepted_hosts(urls: Urls) -> set[str]:
    parts = urlsplit(urls.base)
    return {(parts.hostname or "").lower(), parts.netloc.lower(), canonical_host(urls)}


def lookup(resource: str | None, urls: Urls) -> Lookup:
    """Is this resource the blog's account? acct:user@host (or user@host), the actor URL or the profile URL."""
    if resource is None:
        return Lookup.MALFORMED
    resource = resource.strip()
    if not resource or len(resource) > MAX_RESOURCE_LENGTH or any(ord(c) < 33 for c in resource):
        return Lookup.MALFORMED
    if resource.startswith(("http://", "https://")):
        parts = urlsplit(resource)
        if not parts.netloc:
            return Lookup.MALFORMED
        normalized = f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
        return Lookup.FOUND if normalized in (urls.actor(), urls.profile()) else Lookup.UNKNOWN
    account = resource[5:] if resource.lower().startswith("acct:") else resource
    if ":" in resource.split("@", 1)[0] and not resource.lower().startswith("acct:"):
        return Lookup.MALFORMED  # another URI scheme (mailto:, did:…)
    user, at, host = account.lstrip("@").rpartition("@")
    if not at or not user or not host or "@" in user or "/" in host:
        return Lookup.MALFORMED
    if user.lower() == urls.username.lower() and host.lower() in accepted_hosts(urls):
        return Lookup.FOUND
    return Lookup.UNKNOWN


def jrd(urls: Urls) -> dict[str, Any]:
    """The account's JRD, shaped like Mastodon's (samples/webfinger-blog-expected.json)."""
    return {
        "subject": subject(urls),
        "aliases": [urls.profile(), urls.actor()],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": urls.profile()},
            {"rel": "self", "type": "application/activity+json", "href": urls.actor()},
            {"rel": SUBSCRIBE_REL, "template": urls.absolute("/authorize_interaction?uri={uri}")},
        ],
    }


def host_meta(urls: Urls) -> str:
    template = quoteattr(urls.absolute("/.well-known/webfinger?resource={uri}"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="{XRD_CONTENT_TYPE}" template={template}/>\n'
        "</XRD>\n"
    )
