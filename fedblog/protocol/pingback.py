"""Pingback 1.0 (Ian Hickson, 2002) as pure functions: the faults, reading a `pingback.ping` call, discovering a
page's pingback server, and what a verified source says (its title and the words around its link). No I/O.

A source page is anyone's: it is first rewritten by html5ever (through nh3) into plain well-formed markup with only
the elements read here, as the webmention scan does, so that a hostile page costs linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import nh3

from fedblog.protocol import webmention as wm
from fedblog.protocol.addresses import hostname_of, is_http_url
from fedblog.protocol.xmlrpc import Fault, MethodCall

METHOD = "pingback.ping"
TITLE_CHARS = 200
CONTEXT_CHARS = 100  # on each side of the link, as WordPress takes it

# The faults of the specification, and those of the XML-RPC fault code interoperability convention.
SOURCE_NOT_FOUND = 0x0010
SOURCE_HAS_NO_LINK = 0x0011
TARGET_NOT_FOUND = 0x0020
TARGET_NOT_A_POST = 0x0021
ALREADY_REGISTERED = 0x0030
ACCESS_DENIED = 0x0031
UPSTREAM_ERROR = 0x0032
PARSE_ERROR = -32700
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


class PingbackFault(Exception):
    """A ping refused with one of the faults above; `fault` is the answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.fault = Fault(code, message)


def ping_arguments(call: MethodCall) -> tuple[str, str]:
    """(source, target) of a `pingback.ping` call; raises PingbackFault for any other method or malformed params."""
    if call.name != METHOD:
        raise PingbackFault(METHOD_NOT_FOUND, f"server error. requested method {call.name!r} does not exist.")
    if len(call.params) != 2 or not all(isinstance(param, str) for param in call.params):
        raise PingbackFault(INVALID_PARAMS, "pingback.ping takes two strings: the source URI and the target URI.")
    source, target = (str(param).strip() for param in call.params)
    if not is_http_url(source):
        raise PingbackFault(SOURCE_NOT_FOUND, "The source URI is not an http:// or https:// URL.")
    if not is_http_url(target):
        raise PingbackFault(TARGET_NOT_FOUND, "The target URI is not an http:// or https:// URL.")
    if wm.normalize_url(source) == wm.normalize_url(target):
        raise PingbackFault(SOURCE_HAS_NO_LINK, "The source URI and the target URI are the same page.")
    return source, target


# --- discovery (sending) ----------------------------------------------------------------------------------------


def discover_server(x_pingback: str | None, document: str | None, page_url: str) -> str | None:
    """A page's pingback server: its X-Pingback header, else its first <link rel="pingback">; None without one."""
    if x_pingback and x_pingback.strip():
        server = urljoin(page_url, x_pingback.strip())
        return server if is_http_url(server) else None
    return wm.pingback_link(document, page_url) if document is not None else None


# --- what the source says (receiving) ---------------------------------------------------------------------------

_BLOCKS = frozenset({"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "article",
                     "section", "header", "footer", "pre", "dd", "dt", "figcaption", "tr"})  # fmt: skip
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SourceContext:
    title: str  # the source page's <title>, plain text (may be empty)
    excerpt: str  # the words around the first link to the target, plain text (may be empty)


class _ContextReader(HTMLParser):
    def __init__(self, page_url: str, target: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.target = wm.normalize_url(target)
        self.text: list[str] = []
        self.size = 0
        self.title: list[str] = []
        self.in_title = False
        self.link_start: int | None = None
        self.link_end: int | None = None
        self.in_link = False

    def _add(self, text: str) -> None:
        self.text.append(text)
        self.size += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in _BLOCKS:
            self._add(" ")
        elif tag == "a" and self.link_start is None:
            href = next((value for name, value in attrs if name == "href" and value), None)
            url = urljoin(self.base, href.strip()) if href else ""
            if is_http_url(url) and wm.normalize_url(url) == self.target:
                self.link_start, self.in_link = self.size, True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _BLOCKS:
            self._add(" ")
        elif tag == "a" and self.in_link:
            self.in_link, self.link_end = False, self.size

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        else:
            self._add(data)


def _trim(text: str, limit: int, from_end: bool) -> str:
    """At most `limit` characters of `text`, cut at a word boundary, taken from its end or its start."""
    if len(text) <= limit:
        return text
    piece = text[-limit:] if from_end else text[:limit]
    if from_end:
        return piece.split(" ", 1)[1] if " " in piece else piece
    return piece.rsplit(" ", 1)[0] if " " in piece else piece


def source_context(document: str, page_url: str, target: str) -> SourceContext:
    """The source's title and about CONTEXT_CHARS characters either side of its first link to the target."""
    markup = nh3.clean(
        document, tags={"a", "title", *_BLOCKS}, attributes={"a": {"href"}}, link_rel=None, strip_comments=True
    )
    reader = _ContextReader(page_url, target)
    try:
        reader.feed(markup)
        reader.close()
    except (AssertionError, ValueError):
        pass
    title = one_line(" ".join(reader.title), TITLE_CHARS)
    if reader.link_start is None:
        return SourceContext(title, "")
    text = "".join(reader.text)
    end = reader.link_end if reader.link_end is not None else len(text)
    before = _SPACES.sub(" ", text[: reader.link_start]).lstrip()
    link = _SPACES.sub(" ", text[reader.link_start : end])
    after = _SPACES.sub(" ", text[end:]).rstrip()
    excerpt = _trim(before, CONTEXT_CHARS, from_end=True) + link + _trim(after, CONTEXT_CHARS, from_end=False)
    return SourceContext(title, _SPACES.sub(" ", excerpt).strip())


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed, at most `limit` characters."""
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ping_summary(document: str, content_type: str, page_url: str, source: str, target: str) -> SourceContext:
    """What a verified pingback's comment shows: the source's title (else its host) and the words around its link.
    CPU-bound on large pages: call it off the event loop."""
    found = source_context(document, page_url, target) if content_type in wm.HTML_TYPES else SourceContext("", "")
    return SourceContext(found.title or hostname_of(source), found.excerpt)


def trackback_summary(title: str | None, excerpt: str | None, blog_name: str | None, source: str) -> SourceContext:
    """A verified trackback's comment: the title its sender gave (else its blog's name, else its host), and its
    excerpt."""
    return SourceContext(title or blog_name or hostname_of(source), excerpt or "")
