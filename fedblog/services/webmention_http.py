"""The HTTP exchanges of Webmention and Pingback, through the blog's SSRF-guarded client (services/http.py): reading
a page (a source to verify, a target whose endpoint we discover), POSTing a form to an endpoint and an XML-RPC call
to a pingback server.

Every hop of a redirect is checked by the client's guard again; bodies are capped, and only text types are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

from fedblog.services.http import (
    FetchError,
    HttpClient,
    describe_failure,
    followed,
    parse_retry_after,
)

MAX_PAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Page:
    url: str  # after redirects: relative URLs of the page resolve against it
    status: int
    content_type: str
    link_headers: tuple[str, ...]
    text: str | None  # None unless 2xx and of a type asked for
    retry_after: float | None = None
    x_pingback: str | None = None  # the page's pingback server, when it advertises one (Pingback 1.0 §2)


async def fetch_page(http: HttpClient, url: str, *, accept: str, types: frozenset[str], truncate: bool = False) -> Page:
    """GET a page, following at most MAX_REDIRECTS redirects. Any HTTP answer is a Page; no answer, a refused
    address, a body over MAX_PAGE_BYTES (unless `truncate`: then its beginning) raise FetchError."""
    headers = {"Accept": accept}
    async with followed(lambda hop: http.request("GET", hop, headers, None), url) as (current, response):
        content_type = response.content_type.lower()
        text = None
        if 200 <= response.status < 300 and content_type in types:
            data = await _read(response, truncate)
            text = _decode(data, response.charset)
        return Page(
            url=current,
            status=response.status,
            content_type=content_type,
            link_headers=tuple(response.headers.getall("Link", [])),
            text=text,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC)),
            x_pingback=response.headers.get("X-Pingback"),
        )


async def post_form(http: HttpClient, endpoint: str, fields: dict[str, str]) -> int:
    """POST application/x-www-form-urlencoded fields (the endpoint's own query string stays); the HTTP status."""
    body = urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"}
    try:
        async with await http.request("POST", endpoint, headers, body) as response:
            await response.content.read(2048)
            return response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        raise FetchError(describe_failure(error, endpoint)) from None


async def post_xml(http: HttpClient, server: str, body: bytes, limit: int) -> tuple[int, bytes | None]:
    """POST an XML-RPC call; the HTTP status and, for a 2xx answer of at most `limit` bytes, its body."""
    headers = {"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml, application/xml"}
    try:
        async with await http.request("POST", server, headers, body) as response:
            if not 200 <= response.status < 300:
                await response.content.read(2048)
                return response.status, None
            data = b""
            while len(data) <= limit:
                chunk = await response.content.read(limit + 1 - len(data))
                if not chunk:
                    break
                data += chunk
            return response.status, data if len(data) <= limit else None
    except (aiohttp.ClientError, TimeoutError) as error:
        raise FetchError(describe_failure(error, server)) from None


async def _read(response: aiohttp.ClientResponse, truncate: bool) -> bytes:
    if not truncate and response.content_length is not None and response.content_length > MAX_PAGE_BYTES:
        raise FetchError("response too large", status=response.status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_PAGE_BYTES:
            if not truncate:
                raise FetchError("response too large", status=response.status)
            break
    return b"".join(chunks)[:MAX_PAGE_BYTES]


# Text encodings web pages use. The sender names the codec: Python also has codecs such as punycode (quadratic
# time) and idna (raises) that no page uses; anything not listed here is read as UTF-8.
TEXT_ENCODINGS = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
     "iso-8859-15", "windows-1251", "koi8-r", "iso-8859-2", "windows-1250", "shift_jis", "euc-jp", "iso-2022-jp",
     "gb2312", "gbk", "gb18030", "big5", "euc-kr", "utf-16", "utf-16le", "utf-16be"}
)  # fmt: skip


def _decode(data: bytes, charset: str | None) -> str:
    encoding = (charset or "utf-8").strip().lower()
    try:
        return data.decode(encoding if encoding in TEXT_ENCODINGS else "utf-8", errors="replace")
    except (LookupError, UnicodeError):
        return data.decode("utf-8", errors="replace")
