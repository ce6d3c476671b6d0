"""Rendered public pages kept in memory, so the read path serves bytes instead of rendering templates.

Keys carry the database's data_version: any commit (this process, the CLI, another server process) changes
it, so the next request renders afresh and an edit shows at once. A page's new version replaces its older one.

The comment form's token is not part of the cached render: pages are rendered with CSRF_PLACEHOLDER where it
goes, and the cached entry puts in a token of its own, renewed every TOKEN_RENEWAL_SECONDS. Visitors of the same
page within that window share a token; that gives nothing away, because the form is anonymous: the token binds no
visitor (anyone can fetch the page and get one), it proves the form came from this site and when (see web/csrf.py).
A fresh token per response meant a new 113 KB body per request, a third of a cache hit. Personal views (?replyto,
?held, form errors) bypass the cache entirely and get a token of their own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from fedblog.heap import LARGE_PAGE_BYTES, TRIM_AFTER_SECONDS, release_freed_memory
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.middleware import HTML_SECURITY_HEADERS, SECURITY_HEADERS
from fedblog.web.navigation import refresh_navigation
from fedblog.web.pieces import IN_PIECES_ABOVE, BodyInPieces

CSRF_PLACEHOLDER = "__fedblog_csrf_token__"
_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()
MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024  # server.page_cache_mb's default
MIB = 1024 * 1024
# Well under the token's lifetime (a day, web/csrf.py): a page read just before a renewal still has hours.
TOKEN_RENEWAL_SECONDS = 600.0

CacheKey = tuple[str, str, int]


@dataclass(eq=False)
class CachedPage:
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    has_placeholder: bool = False
    # A page with a form is held once, as served: the body with the current token in place, where each token
    # starts in it, and when that token is due for renewal (time.monotonic()). Its parts cut at the placeholder
    # beside a served copy held a long thread's page twice (two copies of 12.9 MB for 10,000 comments); a
    # renewal joins slices of the served copy around the new token (~1 µs for a 113 KB page, every ten minutes,
    # where bytes.replace on every response cost ~37 µs).
    served: bytes = field(default=b"", repr=False)
    token_starts: tuple[int, ...] = field(default=(), repr=False)
    token_length: int = field(default=0, repr=False)
    renew_at: float = field(default=0.0, repr=False)
    response_headers: dict[str, str] = field(default_factory=dict, repr=False)

    length: int = field(default=0, repr=False)  # of the body as rendered

    def __post_init__(self) -> None:
        self.length = len(self.body)
        if self.has_placeholder:
            starts = []
            start = self.body.find(_PLACEHOLDER_BYTES)
            while start >= 0:
                starts.append(start)
                start = self.body.find(_PLACEHOLDER_BYTES, start + len(_PLACEHOLDER_BYTES))
            # The placeholder stands as the first token, renewed (renew_at 0) before anything is served.
            self.served, self.token_starts, self.token_length = self.body, tuple(starts), len(_PLACEHOLDER_BYTES)
            self.body = b""
        # With the site's security headers (the middleware then finds them there and adds nothing).
        security = {**SECURITY_HEADERS, **(HTML_SECURITY_HEADERS if self.content_type.startswith("text/html") else {})}
        self.response_headers = {**dict(self.headers), "Content-Type": self.content_type, **security}

    @property
    def size(self) -> int:
        """Bytes held: the body, or for a page with a form its served copy."""
        return self.length

    def body_to_serve(self, csrf_token: Callable[[], str], now: float) -> bytes:
        if not self.has_placeholder:
            return self.body
        if now >= self.renew_at:
            self._put_token(csrf_token().encode())
            self.renew_at = now + TOKEN_RENEWAL_SECONDS
        return self.served

    def _put_token(self, token: bytes) -> None:
        view = memoryview(self.served)
        pieces = []
        end = 0
        for start in self.token_starts:
            pieces.append(view[end:start])
            end = start + self.token_length
        pieces.append(view[end:])
        shift = len(token) - self.token_length
        self.token_starts = tuple(start + number * shift for number, start in enumerate(self.token_starts))
        self.token_length = len(token)
        self.served = token.join(pieces)


@dataclass
class PageCache:
    """A least-recently-used map bounded by entry count and by total body size."""

    max_entries: int = MAX_ENTRIES
    max_bytes: int = MAX_BYTES
    _entries: OrderedDict[CacheKey, CachedPage] = field(default_factory=OrderedDict)
    _bytes: int = 0
    # (path, language) → the one key (with its data_version) cached for it.
    _versions: dict[tuple[str, str], CacheKey] = field(default_factory=dict)
    # Pages being rendered right now: concurrent misses of one key wait for that render instead of each
    # rendering the page again (after a publish or a new comment, hundreds of requests miss at once).
    in_flight: dict[CacheKey, asyncio.Future[CachedPage | None]] = field(default_factory=dict)

    def get(self, key: CacheKey) -> CachedPage | None:
        page = self._entries.get(key)
        if page is not None:
            self._entries.move_to_end(key)
        return page

    def put(self, key: CacheKey, page: CachedPage) -> None:
        """Keep `page`, and no other version of the same page: a thread re-rendered after each new comment kept
        every older version of megabytes until they were evicted by size."""
        if page.size > self.max_bytes:
            return
        other = self._versions.get(key[:2])
        if other is not None:
            self._drop(other)
        self._entries[key] = page
        self._versions[key[:2]] = key
        self._bytes += page.size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: CacheKey) -> None:
        self._bytes -= self._entries.pop(key).size
        if self._versions.get(key[:2]) == key:
            del self._versions[key[:2]]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held(self) -> int:
        """Bytes held, as counted against max_bytes."""
        return self._bytes

    def cached_keys(self) -> list[CacheKey]:
        return list(self._entries)


def page_cache(app: web.Application) -> PageCache:
    state = app[STATE_KEY]
    if state.page_cache is None:
        state.page_cache = PageCache(max_bytes=app[CONTEXT_KEY].settings.server.page_cache_mb * MIB)
    return state.page_cache


def page_from_response(response: web.Response) -> CachedPage:
    body = response.body if isinstance(response.body, bytes) else b""
    headers = tuple((name, value) for name, value in response.headers.items() if name in ("Vary", "Link", "X-Pingback"))
    content_type = response.headers.get("Content-Type", "text/html; charset=utf-8")
    return CachedPage(body=body, content_type=content_type, headers=headers, has_placeholder=_PLACEHOLDER_BYTES in body)


def response_from_page(page: CachedPage, csrf_token: Callable[[], str], now: float | None = None) -> web.Response:
    body = page.body_to_serve(csrf_token, time.monotonic() if now is None else now)
    if len(body) > IN_PIECES_ABOVE:  # a long thread's page: a slow reader holds a piece of it, not a copy
        return web.Response(body=BodyInPieces(body, page.content_type), headers=page.response_headers)
    return web.Response(body=body, headers=page.response_headers)


async def cached(
    request: web.Request,
    key_path: str,
    build: Callable[[], Awaitable[web.Response]],
    csrf_token: Callable[[], str],
) -> web.Response:
    """Serve key_path from the cache, or build it (status 200 only is kept) and remember it."""
    ctx = get_context(request)
    key: CacheKey = (key_path, ctx.i18n.language, await ctx.db.data_version())
    cache = page_cache(request.app)
    page = cache.get(key)
    metrics = request.app[STATE_KEY].metrics
    if metrics is not None:
        metrics.page_cache_lookup(hit=page is not None)
    if page is None and key in cache.in_flight:
        page = await asyncio.shield(cache.in_flight[key])  # None: that render was not cacheable, render here
    if page is None:
        mine: asyncio.Future[CachedPage | None] = asyncio.get_running_loop().create_future()
        cache.in_flight.setdefault(key, mine)
        try:
            await refresh_navigation(request)  # base.html's page links, read again only after a change
            response = await build()
            if response.status == 200:
                page = page_from_response(response)
                cache.put(key, page)
                ctx.runtime.heap.rendered(page.length)
                if page.length >= LARGE_PAGE_BYTES:  # once the answer is sent, what the render dropped goes back
                    asyncio.get_running_loop().call_later(TRIM_AFTER_SECONDS, release_freed_memory)
        finally:
            if cache.in_flight.get(key) is mine:
                del cache.in_flight[key]
            mine.set_result(page)
        if page is None:
            return personalize(response, csrf_token)
    return response_from_page(page, csrf_token)


def personalize(response: web.Response, csrf_token: Callable[[], str]) -> web.Response:
    """Put a real token into a freshly rendered (uncached) response."""
    if isinstance(response.body, bytes) and _PLACEHOLDER_BYTES in response.body:
        response.body = response.body.replace(_PLACEHOLDER_BYTES, csrf_token().encode())
    return response
