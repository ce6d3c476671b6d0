"""Webmention (W3C Recommendation, 2017) as pure functions: request checks, endpoint discovery, link checking,
the links a post sends mentions to, and what a source page says (microformats2, through mf2py). No I/O.

Discovery follows §3.1.2: the first `Link` header with rel="webmention", else the first `<link>` or `<a>` with
that rel in document order; relative endpoints are resolved against the page's final URL, an empty href is the
page itself, a query string is kept. Link checking (§3.2.2) compares real URLs of the source (hrefs, srcs,
cites, or URLs in plain text) with the target after normalisation, never a substring search.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import nh3

from fedblog.protocol.addresses import hostname_of, is_http_url
from fedblog.protocol.sanitize import plain_text

MAX_URL_LENGTH = 2048
EXCERPT_CHARS = 300
NAME_CHARS = 100
# Source documents we read: HTML, and text types where a link is a URL in the text.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5"

# Kinds of mention, from the source entry's properties (first match wins, as Semantic Linkbacks does).
REPLY, LIKE, REPOST, BOOKMARK, MENTION = "reply", "like", "repost", "bookmark", "mention"
KIND_PROPERTIES = (("in-reply-to", REPLY), ("like-of", LIKE), ("repost-of", REPOST), ("bookmark-of", BOOKMARK))
KINDS = (REPLY, LIKE, REPOST, BOOKMARK, MENTION)

# Elements whose attribute holds a URL the page links to or embeds.
_URL_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "video": "src",
    "audio": "src",
    "source": "src",
    "track": "src",
    "iframe": "src",
    "embed": "src",
    "object": "data",
    "blockquote": "cite",
    "q": "cite",
    "ins": "cite",
    "del": "cite",
}
_TEXT_URL_RE = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidRequest(ValueError):
    """A webmention request refused before any work; the message is the plain answer (400)."""


# --- URLs -------------------------------------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """One spelling per URL: scheme and host lowercased, default port and fragment dropped, the path's
    escapes made canonical, no trailing slash (except the root)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path or "/", parts.query, ""))


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/"


def check_request(source: str, target: str) -> None:
    """§3.2.1: both http(s) URLs, and not the same. Raises InvalidRequest with the answer's text."""
    if not source or not target:
        raise InvalidRequest("Both 'source' and 'target' are required.")
    if not is_http_url(source):
        raise InvalidRequest("'source' must be an http:// or https:// URL.")
    if not is_http_url(target):
        raise InvalidRequest("'target' must be an http:// or https:// URL.")
    if normalize_url(source) == normalize_url(target):
        raise InvalidRequest("'source' and 'target' must be different URLs.")


# --- HTML scanning ----------------------------------------------------------------------------------------------


_SCAN_TAGS = {*_URL_ATTRIBUTES, "base"}
_SCAN_ATTRIBUTES = {tag: {attribute, "rel"} for tag, attribute in _URL_ATTRIBUTES.items()} | {"base": {"href"}}


class _LinkScanner(HTMLParser):
    """Collects URL attributes (resolved against <base href> or the page URL), the rel=webmention endpoint and the
    <link rel=pingback> server."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.urls: list[str] = []
        self.endpoint: str | None = None
        self.pingback: str | None = None
        self._seen_base = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "base" and not self._seen_base and "href" in values:
            self._seen_base = True
            self.base = urljoin(self.base, values["href"].strip())
            return
        attribute = _URL_ATTRIBUTES.get(tag)
        if attribute is None:
            return
        if attribute in values and values[attribute].strip():
            self.urls.append(urljoin(self.base, values[attribute].strip()))
        if (
            self.endpoint is None
            and tag in ("a", "link")
            and "href" in values
            and "webmention" in values.get("rel", "").lower().split()
        ):
            # An empty href is the page itself (webmention.rocks test 15).
            self.endpoint = urljoin(self.base, values["href"].strip())
        if (
            self.pingback is None
            and tag == "link"
            and values.get("href", "").strip()
            and "pingback" in values.get("rel", "").lower().split()
        ):
            self.pingback = urljoin(self.base, values["href"].strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _well_formed(document: str) -> str:
    """Only the tags and attributes the scan reads, rewritten by html5ever (through nh3) as plain well-formed markup.
    html5ever parses anything in linear time; Python 3.11's html.parser is quadratic on some broken markup (64 KiB of
    unclosed attribute quotes took 6 s, a megabyte of unclosed comments minutes) and a source page is anyone's."""
    return nh3.clean(document, tags=_SCAN_TAGS, attributes=_SCAN_ATTRIBUTES, link_rel=None, strip_comments=True)


def _scan(document: str, page_url: str) -> _LinkScanner:
    scanner = _LinkScanner(page_url)
    try:
        scanner.feed(_well_formed(document))
        scanner.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup: keep what it read
        pass
    return scanner


def links_in_document(document: str, content_type: str, page_url: str) -> set[str]:
    """Every URL the document links to or embeds, normalised."""
    if content_type in HTML_TYPES:
        found = _scan(document, page_url).urls
    else:
        found = [match.rstrip(".,;:!?)]}") for match in _TEXT_URL_RE.findall(document)]
    return {normalize_url(url) for url in found if is_http_url(url)}


def source_links_to(document: str, content_type: str, page_url: str, target: str) -> bool:
    return normalize_url(target) in links_in_document(document, content_type, page_url)


# --- discovery (sending) ----------------------------------------------------------------------------------------


def _link_header_values(header: str) -> list[tuple[str, dict[str, str]]]:
    """`<url>; rel="a b", <url2>; rel=c` → [(url, {"rel": "a b"}), …]; commas inside <> or quotes are kept."""
    results: list[tuple[str, dict[str, str]]] = []
    for match in re.finditer(r"<([^>]*)>((?:\s*;\s*[^;,]+(?:=(?:\"[^\"]*\"|[^;,]*))?)*)", header):
        params: dict[str, str] = {}
        for param in re.finditer(r";\s*([^=;,\s]+)\s*(?:=\s*(\"[^\"]*\"|[^;,]*))?", match.group(2)):
            value = (param.group(2) or "").strip()
            params[param.group(1).lower()] = value[1:-1] if value.startswith('"') else value
        results.append((match.group(1).strip(), params))
    return results


def endpoint_from_link_headers(headers: list[str], page_url: str) -> str | None:
    for header in headers:
        for url, params in _link_header_values(header):
            if "webmention" in params.get("rel", "").lower().split():
                return urljoin(page_url, url)
    return None


def discover_endpoint(link_headers: list[str], document: str | None, page_url: str) -> str | None:
    """The target's endpoint: Link header first, then the first <link>/<a rel=webmention> of the HTML."""
    endpoint = endpoint_from_link_headers(link_headers, page_url)
    if endpoint is None and document is not None:
        endpoint = _scan(document, page_url).endpoint
    return endpoint if endpoint is not None and is_http_url(endpoint) else None


def pingback_link(document: str, page_url: str) -> str | None:
    """The first <link rel="pingback" href> of a page (Pingback 1.0 autodiscovery), resolved, or None."""
    server = _scan(document, page_url).pingback
    return server if server is not None and is_http_url(server) else None


class _OutboundLinks(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag != "a" or not values.get("href"):
            return
        classes = values.get("class", "").split()
        if "mention" in classes or "hashtag" in classes:  # fediverse accounts and tags, not pages that cite us
            return
        url = urljoin(self.page_url, values["href"].strip())
        if is_http_url(url):
            self.urls.append(urlunsplit(urlsplit(url)._replace(fragment="")))


def outbound_links(body_html: str, page_url: str, limit: int = 50) -> list[str]:
    """The distinct http(s) links of a post body, in order (fragments dropped), at most `limit`."""
    scanner = _OutboundLinks(page_url)
    try:
        scanner.feed(body_html)
        scanner.close()
    except (AssertionError, ValueError):
        pass
    return list(dict.fromkeys(scanner.urls))[:limit]


# --- what the source says (microformats2) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    kind: str
    author_name: str
    author_url: str | None
    author_photo: str | None
    excerpt: str  # plain text, at most EXCERPT_CHARS
    # A reply to one comment of the post: its in-reply-to is the target with `#comment-N` (the comment's link).
    replied_comment: int | None = None


def _first(properties: dict[str, Any], name: str) -> Any:
    values = properties.get(name) or []
    return values[0] if values else None


def _url_value(value: Any) -> str | None:
    """A URL property: a string, an {"value", "alt"} image, or an embedded h-cite/h-card with a url."""
    if isinstance(value, dict):
        value = value.get("value") if "properties" not in value else (_first(value["properties"], "url") or "")
        if isinstance(value, dict):
            value = value.get("value")
    return value if isinstance(value, str) and is_http_url(value) else None


def _text_value(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value", "")
    return value if isinstance(value, str) else ""


def _entries(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every h-entry, top-level or nested in children (h-feed) and properties, in document order."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(items))
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        if "h-entry" in item.get("type", []):
            found.append(item)
        stack.extend(reversed(item.get("children", [])))
    return found


def _entry_kind(entry: dict[str, Any], target: str) -> str:
    wanted = normalize_url(target)
    properties = entry.get("properties", {})
    for name, kind in KIND_PROPERTIES:
        for value in properties.get(name, []):
            url = _url_value(value)
            if url is not None and normalize_url(url) == wanted:
                return kind
    return MENTION


_COMMENT_FRAGMENT = re.compile(r"comment-([0-9]{1,12})")


def _replied_comment(entry: dict[str, Any], target: str) -> int | None:
    """The comment an in-reply-to of the target names by its fragment (normalize_url drops fragments)."""
    wanted = normalize_url(target)
    for value in entry.get("properties", {}).get("in-reply-to", []):
        url = _url_value(value)
        if url is not None and normalize_url(url) == wanted:
            match = _COMMENT_FRAGMENT.fullmatch(urlsplit(url).fragment)
            if match:
                return int(match.group(1))
    return None


def _author(entry: dict[str, Any] | None, parsed: dict[str, Any], source: str) -> tuple[str, str | None, str | None]:
    """(name, url, photo) from the entry's p-author h-card, else the page's h-card, else the source's host."""
    author: Any = _first(entry.get("properties", {}), "author") if entry else None
    if author is None:
        author = next((item for item in parsed.get("items", []) if "h-card" in item.get("type", [])), None)
    name, url, photo = "", None, None
    if isinstance(author, dict) and "properties" in author:
        properties = author["properties"]
        name = plain_text(_text_value(_first(properties, "name")), NAME_CHARS)
        url = _url_value(_first(properties, "url"))
        photo = _url_value(_first(properties, "photo"))
    elif isinstance(author, str | dict):
        text = _text_value(author)
        url = text if is_http_url(text) else None
        name = "" if url else plain_text(text, NAME_CHARS)
    if url is not None and hostname_of(url) != hostname_of(source):
        # A page speaks for its own site only (as Mastodon drops an actor `url` on another host): a claimed author
        # elsewhere would borrow their profile link, avatar and trust. The name stays, as a web commenter's does.
        url, photo = None, None
    return name or hostname_of(url or source), url, photo


def _excerpt(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    properties = entry.get("properties", {})
    for name in ("content", "summary", "name"):
        value = _first(properties, name)
        if value is None:
            continue
        raw = value.get("html", value.get("value", "")) if isinstance(value, dict) else value
        text = plain_text(raw if isinstance(raw, str) else "", EXCERPT_CHARS + 1)
        if text:
            return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"
    return ""


def parse_mention(document: str, content_type: str, source: str, target: str) -> Mention:
    """What a verified source says about the target. CPU-bound on large pages: call it off the event loop."""
    if content_type not in HTML_TYPES:
        return Mention(MENTION, hostname_of(source), None, None, "")
    import mf2py  # on first use: it brings BeautifulSoup, html5lib and requests (~90 ms and several MB at start)

    parsed = mf2py.parse(doc=document, url=source, metaformats=False, filter_roots=True)
    entries = _entries(parsed.get("items", []))
    wanted = normalize_url(source)
    entry = (
        next((e for e in entries if _entry_kind(e, target) != MENTION), None)
        or next((e for e in entries if any(normalize_url(u) == wanted for u in _urls(e))), None)
        or (entries[0] if entries else None)
    )
    name, url, photo = _author(entry, parsed, source)
    kind = _entry_kind(entry, target) if entry else MENTION
    replied = _replied_comment(entry, target) if entry is not None and kind == REPLY else None
    return Mention(kind, name, url, photo, _excerpt(entry), replied)


def _urls(entry: dict[str, Any]) -> list[str]:
    return [url for url in (_url_value(v) for v in entry.get("properties", {}).get("url", [])) if url]


def excerpt_html(excerpt: str) -> str:
    """The stored comment body: the plain excerpt, escaped, in one paragraph."""
    return f"<p>{html.escape(excerpt)}</p>" if excerpt else ""


def author_key(author_url: str | None, source: str) -> str:
    """Who a webmention is from, for first-time moderation: the h-card URL when it is on the source's own host
    (anyone can claim any URL elsewhere), else the source's host."""
    if author_url and hostname_of(author_url) == hostname_of(source):
        return normalize_url(author_url)
    return hostname_of(source)


# --- retries ----------------------------------------------------------------------------------------------------

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))


def is_retryable(status: int | None) -> bool:
    """No answer, a timeout, throttling or a server error: worth another try. Other answers are final."""
    return status is None or status in (408, 429) or (status >= 500 and status != 501)


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta | None:
    """The wait after the `attempts`-th failed try (1-based), honouring Retry-After up to a day; None: give up."""
    if attempts > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[max(attempts, 1) - 1]
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), timedelta(days=1)))
    return delay
