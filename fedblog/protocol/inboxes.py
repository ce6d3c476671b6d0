"""Which inboxes fedblog will deliver a follower's activities to. Pure: no I/O, no DNS.

A follower names its own inboxes; believed blindly, a Follow could point fedblog's deliveries at any URL: the blog
itself (a loop), another server (fedblog as a relay of unwanted traffic), a private address. An inbox must be an
http(s) URL without credentials on the actor's own origin; a shared inbox may be elsewhere on the actor's host.
Neither may be on the blog's host, and with private addresses off an IP literal must be a public address.
(Names that resolve to private addresses are refused again by the resolver when fedblog delivers.)
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from fedblog.protocol.addresses import UnsafeURL, check_url_shape, is_public_address, same_host, same_origin


def inbox_problem(
    actor_id: str, inbox: str, shared_inbox: str | None, *, blog_base: str, allow_private: bool
) -> str | None:
    """Why fedblog must not deliver to this actor's inboxes, or None when both are acceptable."""
    for url, shared in ((inbox, False), (shared_inbox, True)):
        if url is not None:
            problem = inbox_url_problem(url, actor_id, shared=shared, blog_base=blog_base, allow_private=allow_private)
            if problem is not None:
                return problem
    return None


def inbox_url_problem(url: str, actor_id: str, *, shared: bool, blog_base: str, allow_private: bool) -> str | None:
    """Why one inbox URL of the actor is refused, or None."""
    what = "shared inbox" if shared else "inbox"
    try:
        check_url_shape(url)
    except UnsafeURL as error:
        return f"the {what} is refused: {error}"
    if same_host(url, blog_base):
        return f"the {what} is on this blog"
    if not (same_host(url, actor_id) if shared else same_origin(url, actor_id)):
        return f"the {what} is not on the actor's server"
    host = (urlsplit(url).hostname or "").strip("[]")
    if not allow_private and _is_ip_literal(host) and not is_public_address(host):
        return f"the {what} is not a public address"
    return None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
