"""Trackback (Movable Type's specification, 1.2) as pure functions: reading a ping's form fields and writing the
XML answer. No I/O.

A ping is a form POST to the post's trackback URL with `url` (required), `title`, `excerpt` and `blog_name`; the
answer is `<response><error>0</error></response>`, or `<error>1</error>` with a `<message>`. The text fields are
anyone's: they are kept as plain text (markup removed, whitespace collapsed) and cut to a bounded length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from fedblog.protocol.addresses import is_http_url
from fedblog.protocol.sanitize import plain_text

TITLE_CHARS = 200
EXCERPT_CHARS = 300
BLOG_NAME_CHARS = 100
MAX_FIELD_CHARS = 10_000  # what a field may hold before it is cut (the form itself is capped by the server)


class InvalidTrackback(ValueError):
    """A ping refused before any work; the message is the answer's <message>."""


@dataclass(frozen=True)
class Trackback:
    url: str
    title: str
    excerpt: str
    blog_name: str


def _text(fields: Mapping[str, object], name: str, limit: int) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        return ""
    return plain_text(value[:MAX_FIELD_CHARS], limit)


def parse_trackback(fields: Mapping[str, object]) -> Trackback:
    """The ping's fields, as plain text; raises InvalidTrackback without a usable `url`."""
    url = fields.get("url")
    if not isinstance(url, str) or not url.strip():
        raise InvalidTrackback("The 'url' field is required.")
    url = url.strip()
    if not is_http_url(url):
        raise InvalidTrackback("The 'url' field must be an http:// or https:// URL.")
    return Trackback(
        url=url,
        title=_text(fields, "title", TITLE_CHARS),
        excerpt=_text(fields, "excerpt", EXCERPT_CHARS),
        blog_name=_text(fields, "blog_name", BLOG_NAME_CHARS),
    )


def response_xml(error: str | None = None) -> bytes:
    """The answer: success without an error message, else error 1 and the message."""
    body = "<error>0</error>" if error is None else f"<error>1</error>\n<message>{escape(error)}</message>"
    return f'<?xml version="1.0" encoding="utf-8"?>\n<response>\n{body}\n</response>\n'.encode()
