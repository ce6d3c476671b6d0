"""Outbound HTTP: one aiohttp session per context, signed requests, SSRF guard, size and time limits.

SSRF (INTEROP §7 #10): URLs must be http(s) without userinfo; IP literals are checked before connecting; host
names go through `GuardedResolver`, which refuses the whole name when ANY address it resolves to is not public.
aiohttp then connects to exactly the addresses the resolver returned, so a DNS answer cannot change between the
check and the connection (no rebinding). Redirects are followed by hand (at most 3), each target checked again.
`federation.allow_private_addresses` (tests, local development) lifts the address check, not the URL-shape check.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from fedblog import SOFTWARE_NAME, __version__
from fedblog.protocol.addresses import UnsafeURL, check_url_shape, host_of, is_public_address
from fedblog.protocol.httpsig import BodyDigests, sign_request, sign_request_rfc9421
from fedblog.protocol.jsonsafe import UnsafeJSON, parse_json_object
from fedblog.services.recently_used import RecentlyUsed
from fedblog.store.db import DatabaseError, StorageUnavailable, in_transaction
from fedblog.store.signature_styles import SignatureStyleStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

AS2_CONTENT_TYPE = "application/activity+json"
AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_ACCEPT = "application/jrd+json, application/json"
AS2_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
JRD_TYPES = frozenset({"application/jrd+json", "application/json"})
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5, sock_connect=5, sock_read=10)
MAX_RETRY_AFTER = 7 * 24 * 3600.0
EXCERPT_BYTES = 2048
# Signature styles: RFC 9421 first; draft-cavage for a host that answered 400 or 401 to it and took cavage.
RFC9421, CAVAGE = "rfc9421", "cavage"
KNOCK_AGAIN = frozenset({400, 401})
MAX_REMEMBERED_HOSTS = 10_000
MAX_REMEMBERED_BODIES = 64
# A parsed inbox URL (with what aiohttp caches in it, ~1.25 KB) is kept while fan-outs follow each other, and goes
# once unused this long (services/recently_used.py).
TARGETS_KEPT_SECONDS = 5.0
EXCERPT_CHARS = 200


class FetchError(Exception):
    """A fetch that failed; .status is the HTTP status when there was a response."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


class NetworkInTransaction(RuntimeError):
    """A request started inside a database transaction: every writer would wait for a remote server."""


@dataclass(frozen=True)
class DeliveryResult:
    status: int
    retry_after: float | None
    body_excerpt: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class DeliveryClient(Protocol):
    """What the delivery worker needs of its HTTP client: HttpClient, or a test's own."""

    async def post_activity(
        self, inbox: str, body: bytes, extra_headers: dict[str, str] | None = None
    ) -> DeliveryResult: ...

    async def prepare_hosts(self, hosts: Iterable[str]) -> None:
        """Deliveries to these hosts are about to start: read what they need stored about them, at once."""

    def forget_hosts(self) -> None:
        """The queue is idle: let go of what was kept per host or inbox and not used lately."""


class BlockedAddress(OSError):
    """Raised inside the resolver: the connector turns it into ClientConnectorError(os_error=…)."""


class GuardedResolver(AbstractResolver):
    """Resolves with the default resolver, then refuses names with any non-public address."""

    def __init__(self, allowed: Callable[[str], bool], inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results or not all(self._allowed(result["host"]) for result in results):
            raise BlockedAddress(f"{host!r} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def _allow_all(_ip: str) -> bool:
    return True


class HttpClient:
    """Every outbound request of fedblog. `address_allowed` decides which IPs may be connected to."""

    def __init__(
        self,
        ctx: Context,
        *,
        address_allowed: Callable[[str], bool] | None = None,
        name_resolver: AbstractResolver | None = None,
    ) -> None:
        """`name_resolver` answers DNS questions instead of the system's (tests: answers that change)."""
        self.ctx = ctx
        self._name_resolver = name_resolver
        if address_allowed is None:
            address_allowed = _allow_all if ctx.settings.federation.allow_private_addresses else is_public_address
        self._allowed = address_allowed
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None
        self.user_agent = f"{SOFTWARE_NAME}/{__version__} (+{ctx.urls.base}/)"
        # host:port → the signature style it accepted (double-knock, as Fedify does), learned here or read from the
        # database (store/signature_styles.py), where a style learned by a double-knock is kept for every process.
        self.signature_styles: dict[str, str] = {}
        self._unstored_styles: set[str] = set()  # hosts prepare_hosts found no stored style for, not asked since
        self._body_digests: dict[bytes, BodyDigests] = {}
        # url → (why it is refused, or "", its host when that is an IP literal, the URL as aiohttp takes it): the
        # same inboxes are opened again with every activity, each URL's shape checked and parsed once.
        self._targets: RecentlyUsed[str, tuple[str, str | None, URL]] = RecentlyUsed(
            MAX_REMEMBERED_HOSTS, TARGETS_KEPT_SECONDS
        )

    # -- public API ---------------------------------------------------------------------------------------------

    async def get_json(self, url: str, *, signed: bool = True, accept: str = AS2_ACCEPT) -> dict[str, Any]:
        """GET an ActivityStreams document (signed with the blog key unless signed=False) as a dict."""
        return await self._get_document(url, accept=accept, signed=signed, types=AS2_TYPES)

    async def get_jrd(self, url: str) -> dict[str, Any]:
        """GET a WebFinger (JRD) document, unsigned."""
        return await self._get_document(url, accept=JRD_ACCEPT, signed=False, types=JRD_TYPES)

    async def get_image(self, url: str, *, types: frozenset[str], limit: int) -> tuple[bytes, str]:
        """GET an image, unsigned (icons are public), redirects followed through the guard: (bytes, media type).
        FetchError for another type, more than `limit` bytes, or no good answer."""
        accept = {"Accept": ", ".join(sorted(types))}
        async with followed(lambda hop: self._open("GET", hop, accept, None), url) as (current, response):
            if not 200 <= response.status < 300:
                raise FetchError(f"HTTP {response.status} from {_host(current)}", status=response.status)
            media_type = response.content_type.lower()
            if media_type not in types:
                raise FetchError(f"unexpected content type {media_type[:60]!r}", status=response.status)
            return await _read_capped(response, limit), media_type

    async def post_activity(
        self, inbox: str, body: bytes, extra_headers: dict[str, str] | None = None
    ) -> DeliveryResult:
        """POST a signed activity; any HTTP answer is a result, only no answer at all raises FetchError.
        `extra_headers` are sent too (Collection-Synchronization)."""
        timeout = _delivery_timeout(float(self.ctx.settings.federation.delivery_timeout_seconds))
        digests = self._digests_of(body)

        async def knock(style: str) -> aiohttp.ClientResponse:
            extra = {"Content-Type": AS2_CONTENT_TYPE, **(extra_headers or {})}
            headers = self._signed_headers("POST", inbox, body=body, extra=extra, style=style, digests=digests)
            return await self._open("POST", inbox, headers, body, timeout)

        try:
            async with await self._double_knock(inbox, knock) as response:
                excerpt = await response.content.read(EXCERPT_BYTES)
                return DeliveryResult(
                    status=response.status,
                    retry_after=parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC)),
                    body_excerpt=_clean_excerpt(excerpt),
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise FetchError(describe_failure(error, inbox)) from None

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> aiohttp.ClientResponse:
        """An unsigned request through the address guard, redirects not followed (the caller follows them, so that
        each hop goes through the guard again). For exchanges that are not ActivityPub (Webmention)."""
        return await self._open(method, url, headers, body)

    async def prepare_hosts(self, hosts: Iterable[str]) -> None:
        """The stored signature styles of the hosts not known here, in one read: the first fan-out after a start
        read them one delivery at a time (a database trip each). A host found without one is not asked again by
        its next request (it knocks with RFC 9421, and learns)."""
        unknown = sorted({host for host in hosts if host not in self.signature_styles})
        if not unknown:
            return
        try:
            stored = await SignatureStyleStore(self.ctx.db).styles_of(unknown)
        except (DatabaseError, StorageUnavailable):
            return  # each request asks again
        if len(self._unstored_styles) > MAX_REMEMBERED_HOSTS:  # (hosts prepared and never sent to)
            self._unstored_styles.clear()
        for host in unknown:
            style = stored.get(host)
            if style in (RFC9421, CAVAGE):
                self._remember_style(host, style)
            else:
                self._unstored_styles.add(host)

    def forget_hosts(self) -> None:
        """The inbox URLs not used for TARGETS_KEPT_SECONDS go (~1.25 KB each with what aiohttp cached in them:
        12.5 MB after a fan-out to 10,000 hosts); once none is left, the resolved names and body digests too. The
        signature style of each host stays (bounded by MAX_REMEMBERED_HOSTS; learned again only by a request)."""
        gone = self._targets.forget_unused()
        if not gone:
            return
        self.ctx.runtime.heap.note(gone)  # what they held goes back to the system once things are quiet
        if not self._targets:
            self._body_digests.clear()
            if self._session is not None and isinstance(self._session.connector, aiohttp.TCPConnector):
                self._session.connector.clear_dns_cache()

    def inbox_urls_parsed(self) -> int:
        """How many inbox URLs are kept parsed (the tests and the benchmark read it)."""
        return len(self._targets)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    # -- internals ----------------------------------------------------------------------------------------------

    async def _get_document(self, url: str, *, accept: str, signed: bool, types: frozenset[str]) -> dict[str, Any]:
        async with followed(lambda hop: self._get(hop, accept=accept, signed=signed), url) as (current, response):
            if not 200 <= response.status < 300:
                raise FetchError(
                    f"HTTP {response.status} from {_host(current)}",
                    status=response.status,
                    retry_after=parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC)),
                )
            if response.content_type.lower() not in types:
                raise FetchError(f"unexpected content type {response.content_type[:60]!r}", status=response.status)
            data = await _read_capped(response, MAX_RESPONSE_BYTES)
            try:
                return parse_json_object(data)
            except UnsafeJSON as error:
                raise FetchError(str(error), status=response.status) from None

    async def _get(self, url: str, *, accept: str, signed: bool) -> aiohttp.ClientResponse:
        if not signed:
            return await self._open("GET", url, {"Accept": accept}, None)

        async def knock(style: str) -> aiohttp.ClientResponse:
            headers = self._signed_headers("GET", url, extra={"Accept": accept}, style=style)
            return await self._open("GET", url, headers, None)

        response = await self._double_knock(url, knock)
        if response.status == 401 and urlsplit(url).query:
            # Some verifiers rebuild (request-target) without the query string (GoToSocial): sign that form once.
            response.release()
            parts = urlsplit(url)
            bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
            headers = self._signed_headers("GET", bare, extra={"Accept": accept}, style=CAVAGE)
            response = await self._open("GET", url, headers, None)
        return response

    async def _double_knock(
        self, url: str, knock: Callable[[str], Awaitable[aiohttp.ClientResponse]]
    ) -> aiohttp.ClientResponse:
        """Signed with the style the host took before (RFC 9421 for a host never asked); after a 400 or 401, once
        more with the other style, which is remembered for the host when it is taken."""
        host = host_of(url)
        style = await self._style_for(host)
        response = await knock(style)
        if response.status not in KNOCK_AGAIN:
            if response.status < 400:
                self._remember_style(host, style)
            return response
        other = CAVAGE if style == RFC9421 else RFC9421
        response.release()
        response = await knock(other)
        if response.status < 400:
            self._remember_style(host, other)
            await self._store_style(host, other)
        return response

    async def _style_for(self, host: str) -> str:
        """The style to knock with first: known here, else stored by any process, else RFC 9421. A host without a
        stored style is asked for again until this process has learned one (another process may store it)."""
        style = self.signature_styles.get(host)
        if style is not None:
            return style
        if host in self._unstored_styles:  # read a moment ago by prepare_hosts
            self._unstored_styles.discard(host)
            return RFC9421
        try:
            stored = await SignatureStyleStore(self.ctx.db).style_of(host)
        except (DatabaseError, StorageUnavailable):
            return RFC9421  # the default knock still reaches the host
        if stored in (RFC9421, CAVAGE):
            self._remember_style(host, stored)
            return stored
        return RFC9421

    async def _store_style(self, host: str, style: str) -> None:
        try:
            await SignatureStyleStore(self.ctx.db).remember(host, style)
        except (DatabaseError, StorageUnavailable) as error:  # only costs other processes a double-knock
            log.warning("the signature style of %s was not stored: %s", host, error)

    def _remember_style(self, host: str, style: str) -> None:
        if host not in self.signature_styles and len(self.signature_styles) >= MAX_REMEMBERED_HOSTS:
            self.signature_styles.clear()
        self.signature_styles[host] = style

    def _digests_of(self, body: bytes) -> BodyDigests:
        """The body's digests, made once per body: a fan-out POSTs the same bytes to every inbox (the worker keeps
        one bytes object per activity, so the dictionary finds it by identity)."""
        digests = self._body_digests.get(body)
        if digests is None:
            if len(self._body_digests) >= MAX_REMEMBERED_BODIES:
                self._body_digests.clear()
            digests = self._body_digests[body] = BodyDigests.of(body)
        return digests

    def _signed_headers(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        extra: dict[str, str],
        style: str = CAVAGE,
        digests: BodyDigests | None = None,
    ) -> dict[str, str]:
        sign = sign_request_rfc9421 if style == RFC9421 else sign_request
        return sign(
            private_key=self.ctx.private_key,
            key_id=self.ctx.urls.key_id(),
            method=method,
            url=url,
            body=body,
            headers=extra,
            digests=digests,
        )

    async def _open(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        if in_transaction():
            raise NetworkInTransaction(f"{method} {_host(url)} inside a database transaction: fetch before it")
        target = self._check_target(url)
        session = await self._get_session()
        return await session.request(
            method, target, headers=headers, data=body, allow_redirects=False, timeout=timeout or TIMEOUT
        )

    def _check_target(self, url: str) -> URL:
        """The URL to open, once its shape and (for an IP literal) its address are allowed."""
        found = self._targets.get(url)
        if found is None:
            found = _target_of(url)
            self._targets.put(url, found)
        refusal, literal, target = found
        if refusal:
            raise FetchError(f"refused URL: {refusal}")
        if literal is not None and not self._allowed(literal):
            # aiohttp skips the resolver for IP literals, so they are checked here.
            raise FetchError(f"refused: {literal!r} is not a public address")
        return target

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._resolver = GuardedResolver(self._allowed, self._name_resolver)
            connector = aiohttp.TCPConnector(resolver=self._resolver, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=TIMEOUT,
                headers={"User-Agent": self.user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session


def get_http(ctx: Context) -> HttpClient:
    """The context's client, made on first use and closed with the context."""
    client = ctx.runtime.http
    if client is None:
        client = ctx.runtime.http = HttpClient(ctx)
        ctx.closers.append(client.close)
    return client


# Opens one hop of a GET (through the address guard, signed or not): the response, not yet read.
OpenHop = Callable[[str], Awaitable[aiohttp.ClientResponse]]


@contextlib.asynccontextmanager
async def followed(open_hop: OpenHop, url: str) -> AsyncIterator[tuple[str, aiohttp.ClientResponse]]:
    """The first answer that is not a redirect, each hop opened by `open_hop` (so checked by the guard again):
    (its URL, the response). No answer, or an error while the caller reads it: FetchError naming the last hop;
    more than MAX_REDIRECTS redirects: FetchError."""
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            async with await open_hop(current) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    current = urljoin(current, location)
                    continue
                yield current, response
                return
    except (aiohttp.ClientError, TimeoutError) as error:
        raise FetchError(describe_failure(error, current)) from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, decompressed, refused beyond `limit` bytes (gzip bombs stop at the cap)."""
    if response.content_length is not None and response.content_length > limit:
        raise FetchError("response too large", status=response.status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise FetchError("response too large", status=response.status)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at a week."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _target_of(url: str) -> tuple[str, str | None, URL]:
    """(why the URL is refused, or "") its host when that is an IP literal, the URL as aiohttp takes it)."""
    try:
        check_url_shape(url)
    except UnsafeURL as error:
        return str(error), None, URL()
    host = urlsplit(url).hostname or ""
    return "", host if _is_ip_literal(host) else None, URL(url)


@functools.lru_cache(maxsize=8)
def _delivery_timeout(limit: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=limit, connect=min(5.0, limit), sock_read=min(10.0, limit))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _host(url: str) -> str:
    return repr(urlsplit(url).hostname or "")


def describe_failure(error: BaseException, url: str) -> str:
    """A short reason without remote-controlled text beyond the host name."""
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, BlockedAddress):
        return f"refused: {_host(url)} resolves to a non-public address"
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return f"timeout talking to {_host(url)}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect to {_host(url)}"
    return f"request to {_host(url)} failed ({type(error).__name__})"


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]+")


def _clean_excerpt(data: bytes) -> str:
    """A short, single-line excerpt of a peer's answer, safe to store and show."""
    return _CONTROL.sub(" ", data.decode("utf-8", errors="replace")).strip()[:EXCERPT_CHARS]
