"""Remote interaction: from a visitor's @user@host to their own server's page for replying to or following us.

WebFinger (RFC 7033) on the visitor's host gives their interaction templates: FEP-3b86 intents when offered
(`…/Create` with {inReplyTo} to reply, `…/Follow` with {object} to follow), else the OStatus subscribe template
(`authorize_interaction?uri={uri}` on Mastodon). The lookup goes through the SSRF-guarded client, over https;
plain http is tried only when federation.allow_private_addresses is true (local tests), never in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from fedblog.services.http import FetchError, get_http

if TYPE_CHECKING:
    from fedblog.context import Context

SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
INTENT_REL = "https://w3id.org/fep/3b86/"
_USER_RE = re.compile(r"^[A-Za-z0-9_.~+-]{1,64}$")
_HOST_RE = re.compile(r"^(?=.{1,253}(?::\d{1,5})?$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")
_PARAM_RE = re.compile(r"\{([A-Za-z-]+)\}")


class InteractionError(Exception):
    """A message for the visitor, shown next to the handle field."""


@dataclass(frozen=True)
class Handle:
    user: str
    host: str

    @property
    def acct(self) -> str:
        return f"acct:{self.user}@{self.host}"


def parse_handle(text: str) -> Handle | None:
    """`@user@host`, `user@host` or `acct:user@host`; None when it is not one."""
    value = text.strip()
    if value.lower().startswith("acct:"):
        value = value[5:]
    value = value.removeprefix("@")
    user, sep, host = value.partition("@")
    if not sep or not _USER_RE.match(user) or not _HOST_RE.match(host):
        return None
    return Handle(user, host.lower())


def webfinger_urls(ctx: Context, handle: Handle) -> list[str]:
    """The lookup URLs to try, in order: https, then http only where private addresses are allowed (tests)."""
    query = "resource=" + quote(handle.acct, safe=":@")
    urls = [f"https://{handle.host}/.well-known/webfinger?{query}"]
    if ctx.settings.federation.allow_private_addresses:
        urls.append(f"http://{handle.host}/.well-known/webfinger?{query}")
    return urls


def fill_template(template: str, values: dict[str, str]) -> str:
    """Percent-encode known parameters; unknown ones become empty (FEP-3b86 §3.2)."""
    return _PARAM_RE.sub(lambda match: quote(values.get(match.group(1), ""), safe=""), template)


def interaction_url(jrd: dict[str, Any], action: str, object_url: str) -> str | None:
    """Where to send the visitor: the intent for `action` ("reply" or "follow"), else the subscribe template."""
    templates: dict[str, str] = {}
    for link in jrd.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("rel"), str) and isinstance(link.get("template"), str):
            templates.setdefault(link["rel"], link["template"])
    intent = INTENT_REL + ("Create" if action == "reply" else "Follow")
    if intent in templates:
        url = fill_template(templates[intent], {"inReplyTo": object_url, "object": object_url})
    elif SUBSCRIBE_REL in templates:
        url = fill_template(templates[SUBSCRIBE_REL], {"uri": object_url})
    else:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    return url


async def remote_interaction_url(ctx: Context, handle_text: str, action: str, object_url: str) -> str:
    """The visitor's own server page for this action on `object_url`; InteractionError with a message if none."""

    _ = ctx.i18n.gettext
    handle = parse_handle(handle_text)
    if handle is None:
        raise InteractionError(_("Enter your fediverse address like @name@example.social."))
    jrd: dict[str, Any] | None = None
    for url in webfinger_urls(ctx, handle):
        try:
            jrd = await get_http(ctx).get_jrd(url)
            break
        except FetchError:
            continue
    if not isinstance(jrd, dict):
        found = {"handle": f"@{handle.user}@{handle.host}"}
        raise InteractionError(_("We could not find %(handle)s: check the address.") % found)
    target = interaction_url(jrd, action, object_url)
    if target is None:
        raise InteractionError(
            _("Your server does not say where to reply or follow from: search for this address on it instead.")
        )
    if urlsplit(target).scheme != "https" and not ctx.settings.federation.allow_private_addresses:
        raise InteractionError(_("Your server's interaction page is not secure (https)."))
    return target
