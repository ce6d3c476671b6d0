"""Actors, pure (no I/O): the blog's own actor document, and reading remote actor and key documents into
fedblog's terms.

Every field may come as a string, an object or a list (INTEROP §5.1); names are plain text with HTML, control and
bidi characters removed (§7 #16, #18); keys are picked by id, never by position alone (§5.11, §7 #2).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fedblog.clock import to_text
from fedblog.models import RemoteActor
from fedblog.protocol.activitystreams import AS_CONTEXT, SECURITY_CONTEXT
from fedblog.protocol.addresses import UnsafeURL, check_url_shape, same_host
from fedblog.protocol.images import absolute_url, media_type_of
from fedblog.protocol.integrity import MULTIKEY_CONTEXT
from fedblog.rendering import plain_text_to_html
from fedblog.urls import Urls

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
MAX_NAME_CHARS = 100
MAX_USERNAME_CHARS = 64
_TAG = re.compile(r"<[^>]*>")
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_USERNAME = re.compile(r"[A-Za-z0-9_.\-]+")


# The extension terms Mastodon uses, so peers that do expand JSON-LD read our fields right.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
    },
]


ASSERTION_METHOD_TERM = {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set"}


class InvalidActor(ValueError):
    """A document that is not a usable actor or key; str(error) says why."""


def has_as2_context(doc: dict[str, Any]) -> bool:
    context = doc.get("@context")
    items = context if isinstance(context, list) else [context]
    return AS_CONTEXT in items


def first_string(value: Any, *keys: str) -> str | None:
    """The first string in a value that may be a string, an object (looked up by `keys`) or a list of those."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            for key in keys:
                found = first_string(item.get(key), *keys)
                if found:
                    return found
    return None


def http_url(value: Any, *keys: str) -> str | None:
    """The first http(s) URL in a string/object/list value, or None."""
    for item in value if isinstance(value, list) else [value]:
        candidate = first_string(item, *keys)
        if candidate is None:
            continue
        try:
            check_url_shape(candidate)
        except UnsafeURL:
            continue
        return candidate
    return None


def actor_type(doc: dict[str, Any]) -> str | None:
    kind = doc.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str) and k in ACTOR_TYPES), None)
    return kind if isinstance(kind, str) and kind in ACTOR_TYPES else None


def is_actor_document(doc: dict[str, Any]) -> bool:
    return actor_type(doc) is not None and isinstance(doc.get("inbox"), str)


def clean_display_name(value: Any) -> str:
    """Plain text for a name: tags stripped, entities decoded, control/bidi characters removed, ≤100 chars."""
    if not isinstance(value, str):
        return ""
    text = html.unescape(_TAG.sub("", value))
    text = _UNSAFE_CHARS.sub("", text)
    text = " ".join(text.split())
    return text[:MAX_NAME_CHARS].strip()


def handle_from_actor(doc: dict[str, Any]) -> str | None:
    """'@user@host' from preferredUsername and the actor id's host, or None when either is unusable."""
    username = doc.get("preferredUsername")
    actor_id = doc.get("id")
    if not isinstance(username, str) or not isinstance(actor_id, str):
        return None
    username = unicodedata.normalize("NFKC", username).strip().lstrip("@")
    parts = urlsplit(actor_id)
    host = parts.hostname
    if not host or not username or len(username) > MAX_USERNAME_CHARS or not _USERNAME.fullmatch(username):
        return None
    host = host.encode("idna").decode("ascii") if not host.isascii() else host
    try:
        port = parts.port
    except ValueError:
        return None
    # A non-default port is part of the handle: @user@host alone would be looked up on another server.
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{port}"
    return f"@{username}@{host}"


def public_keys(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The RSA key entries of `publicKey` (one object or a list)."""
    value = doc.get("publicKey")
    entries = value if isinstance(value, list) else [value]
    return [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("publicKeyPem"), str)]


def pick_public_key(doc: dict[str, Any], key_id: str | None) -> dict[str, Any] | None:
    """The key entry with id == key_id; without a key id, the only (or first) entry. Its owner must be the doc."""
    entries = public_keys(doc)
    if key_id is not None:
        entries = [entry for entry in entries if entry.get("id") == key_id]
    for entry in entries:
        owner = entry.get("owner")
        if owner is None or owner == doc.get("id"):
            return entry
    return None


def claimed_key_owner(doc: dict[str, Any], key_id: str) -> str | None:
    """Who a fetched key document says owns `key_id` (to be confirmed by fetching that owner: never trusted alone).

    Shapes: the actor itself (Mastodon `…#main-key`), a bare Key {id, owner, publicKeyPem}, or a stub actor whose
    publicKey entry has that id (GoToSocial's fragmentless `…/main-key`).
    """
    if doc.get("id") == key_id and isinstance(doc.get("owner"), str):
        return doc["owner"]
    for entry in public_keys(doc):
        if entry.get("id") == key_id:
            owner = entry.get("owner", doc.get("id"))
            return owner if isinstance(owner, str) else None
    return None


def actor_from_document(doc: dict[str, Any], *, key_id: str | None, fetched_at: datetime) -> RemoteActor:
    """A RemoteActor from an actor document already checked to live at its id. Raises InvalidActor."""
    actor_id = doc.get("id")
    if not isinstance(actor_id, str):
        raise InvalidActor("actor has no id")
    kind = actor_type(doc)
    if kind is None:
        raise InvalidActor("document is not an actor")
    inbox = http_url(doc.get("inbox"))
    if inbox is None:
        raise InvalidActor("actor has no usable inbox")
    endpoints = doc.get("endpoints")
    shared_inbox = http_url(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    key = pick_public_key(doc, key_id)
    if key_id is not None and key is None:
        raise InvalidActor("actor does not list that key")
    if key_id is None and key is not None and not same_host(str(key.get("id", actor_id)), actor_id):
        # Fetched as a reply's author, not for a signature: a key id on another host would be recorded as this
        # actor's and displace the real owner's key (a key fetched for a signature is checked both ways).
        key = None
    name = clean_display_name(doc.get("name")) or clean_display_name(doc.get("preferredUsername"))
    return RemoteActor(
        id=actor_id,
        type=kind,
        inbox=inbox,
        shared_inbox=shared_inbox,
        handle=handle_from_actor(doc),
        name=name,
        icon_url=http_url(doc.get("icon"), "url", "href"),
        url=http_url(doc.get("url"), "href", "url"),
        public_key_id=key.get("id") if key and isinstance(key.get("id"), str) else None,
        public_key_pem=key["publicKeyPem"] if key else None,
        fetched_at=fetched_at,
    )


# --- the blog's own actor --------------------------------------------------------------------------------


def _image(urls: Urls, value: str) -> dict[str, Any] | None:
    url = absolute_url(urls, value) if value else None
    if url is None:
        return None
    image: dict[str, Any] = {"type": "Image", "url": url}
    media_type = media_type_of(url)
    if media_type:
        image["mediaType"] = media_type
    return image


def profile_fields(links: Iterable[str]) -> list[dict[str, str]]:
    """Config lines "Label = https://…" as PropertyValue pairs; the value is an escaped rel=me link."""
    fields = []
    for line in links:
        label, _, url = line.partition("=")
        label, url = label.strip(), url.strip()
        if not label or urlsplit(url).scheme not in ("http", "https"):
            continue
        shown = html.escape(url.split("://", 1)[1].rstrip("/"))
        value = f'<a href="{html.escape(url)}" rel="me nofollow noopener" target="_blank">{shown}</a>'
        fields.append({"type": "PropertyValue", "name": label, "value": value})
    return fields


def actor_document(
    urls: Urls,
    *,
    name: str,
    bio: str,
    avatar: str,
    header_image: str,
    links: Iterable[str],
    public_key_pem: str,
    manually_approves_followers: bool,
    discoverable: bool,
    published: datetime | None,
    assertion_method: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`assertion_method`: the Multikey that signs the blog's object integrity proofs (FEP-8b32)."""
    context = ACTOR_CONTEXT
    if assertion_method is not None:  # the Multikey terms, and assertionMethod itself (the DID context's term)
        context = [*ACTOR_CONTEXT[:2], MULTIKEY_CONTEXT, {**ACTOR_CONTEXT[2], "assertionMethod": ASSERTION_METHOD_TERM}]
    actor: dict[str, Any] = {
        "@context": context,
        "id": urls.actor(),
        "type": "Person",
        "preferredUsername": urls.username,
        "name": name or urls.username,
        "summary": plain_text_to_html(bio) if bio else "",
        "url": urls.profile(),
        "inbox": urls.inbox(),
        "outbox": urls.outbox(),
        "followers": urls.followers(),
        "following": urls.following(),
        "featured": urls.featured(),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {"id": urls.key_id(), "owner": urls.actor(), "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": manually_approves_followers,
        "discoverable": discoverable,
        "indexable": discoverable,
        "attachment": profile_fields(links),
        "tag": [],
    }
    if assertion_method is not None:
        actor["assertionMethod"] = [assertion_method]
    if published is not None:
        actor["published"] = to_text(published)
    for key, value in (("icon", avatar), ("image", header_image)):
        image = _image(urls, value)
        if image:
            actor[key] = image
    return actor
