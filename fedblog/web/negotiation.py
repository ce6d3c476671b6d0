"""Content negotiation: one URL, HTML for browsers, ActivityStreams for servers."""

from __future__ import annotations

from aiohttp import web

AS2_CONTENT_TYPE = "application/activity+json"
_AS2_TYPES = ("application/activity+json", "application/ld+json")


# Servers and browsers send a handful of distinct Accept headers: each is parsed once (the read path is a few
# dozen microseconds per request; parsing was three). Bounded: a client cycling made-up headers gains nothing.
_DECISIONS: dict[str, bool] = {}
_MAX_DECISIONS = 512


def wants_activity_json(request: web.Request) -> bool:
    """True for AS2 media types (ld+json with or without the profile, as Mastodon omits it) and application/json,
    unless text/html is preferred."""
    accept = request.headers.get("Accept", "")
    decision = _DECISIONS.get(accept)
    if decision is None:
        decision = prefers_activity_json(accept)
        if len(_DECISIONS) >= _MAX_DECISIONS:
            _DECISIONS.clear()
        _DECISIONS[accept] = decision
    return decision


def prefers_activity_json(accept: str) -> bool:
    best_html = best_as2 = -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in _AS2_TYPES or media == "application/json":
            best_as2 = max(best_as2, quality)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, quality)
    return best_as2 > 0 and best_as2 >= best_html
