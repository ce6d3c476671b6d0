"""Outbound HTTP: one aiohttp session per context, signed requests, SSRF guard, size and time limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AS2_CONTENT_TYPE = "application/activity+json"
AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_ACCEPT = "application/jrd+json, application/json"
MAX_RESPONSE_BYTES = 1024 * 1024


class FetchError(Exception):
    """A fetch that failed; .status is the HTTP status when there was a response."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class DeliveryResult:
    status: int
    retry_after: float | None
    body_excerpt: str


class HttpClient:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def get_json(self, url: str, *, signed: bool = True, accept: str = AS2_ACCEPT) -> dict[str, Any]:
        raise NotImplementedError

    async def get_jrd(self, url: str) -> dict[str, Any]:
        raise NotImplementedError

    async def post_activity(self, inbox: str, body: bytes) -> DeliveryResult:
        raise NotImplementedError

    async def close(self) -> None:
        return None


HTTP_KEY = "http"


def get_http(ctx: Any) -> HttpClient:
    """The context's client, made on first use and closed with the context."""
    client = ctx.extras.get(HTTP_KEY)
    if client is None:
        client = ctx.extras[HTTP_KEY] = HttpClient(ctx)
        ctx.closers.append(client.close)
    return client
