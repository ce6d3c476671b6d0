"""Sending webmentions: a post listener queues one job per external link, a worker discovers and notifies.

A target without a Webmention endpoint that advertises a pingback server (X-Pingback, <link rel="pingback">) gets
a `pingback.ping` instead, the way WordPress notifies the pages its posts link to.

The listener runs inside PostService's transaction (publish, edit, delete from the admin or the CLI), so the
jobs commit with the change and the server's worker sends them: publishing never waits on another site. On an
edit or a deletion the links sent before are notified again, so their pages can update or drop the mention
(§3.1.3, §3.1.4). Failures are logged, retried a few times (protocol.webmention.retry_delay), then left.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fedblog.clock import utcnow
from fedblog.models import Post
from fedblog.protocol import pingback, xmlrpc
from fedblog.protocol import webmention as wm
from fedblog.services.http import FetchError, get_http
from fedblog.services.supervision import log_failure
from fedblog.services.webmention_http import Page, fetch_page, post_form, post_xml
from fedblog.services.webmention_worker import QueueWorker
from fedblog.store.db import Connection
from fedblog.store.webmentions import SentJob, WebmentionStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

CONCURRENCY = 4
LOCK_DURATION = timedelta(minutes=5)
POLL_SECONDS = 5.0
DISCOVERY_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
WEBMENTION, PINGBACK = "webmention", "pingback"


def wakeup_event(ctx: Context) -> asyncio.Event:
    return ctx.runtime.webmention_send_wakeup


class WebmentionQueue:
    """A PostListener: queues the webmentions a post change calls for, atomically with the change."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = WebmentionStore(ctx.db)

    def targets(self, post: Post) -> list[str]:
        source = self.ctx.urls.post(post.slug)
        return [url for url in wm.outbound_links(post.body_html, source) if not self.ctx.urls.is_local(url)]

    async def _queue(self, conn: Connection, post: Post, targets: list[str]) -> None:
        if targets:
            await self.store.queue_sent(conn, self.ctx.urls.post(post.slug), targets, utcnow())
            wakeup_event(self.ctx).set()

    async def post_published(self, conn: Connection, post: Post) -> None:
        await self._queue(conn, post, self.targets(post))

    async def post_updated(self, conn: Connection, post: Post) -> None:
        before = await self.store.sent_targets(conn, self.ctx.urls.post(post.slug))
        await self._queue(conn, post, list(dict.fromkeys([*self.targets(post), *before])))

    async def post_deleted(self, conn: Connection, post: Post) -> None:
        await self._queue(conn, post, await self.store.sent_targets(conn, self.ctx.urls.post(post.slug)))


class WebmentionSender(QueueWorker[SentJob]):
    """Drains the sending queue, a bounded batch at a time. `run()` lives inside `fedblog serve`."""

    concurrency = CONCURRENCY
    lock_duration = LOCK_DURATION
    poll_seconds = POLL_SECONDS

    async def claim(self, now: datetime, locked_until: datetime, limit: int) -> list[SentJob]:
        return await self.store.claim_sent(now, locked_until, limit)

    def wakeup(self) -> asyncio.Event:
        return wakeup_event(self.ctx)

    async def process(self, job: SentJob) -> None:
        try:
            await self.send(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not stop the worker; the lock expires and the job is tried again
            log_failure(log, "sending the webmention for %r failed", job.target[:200])

    async def send(self, job: SentJob) -> None:
        http = get_http(self.ctx)
        endpoint: str | None = None
        try:
            page = await fetch_page(http, job.target, accept=DISCOVERY_ACCEPT, types=wm.HTML_TYPES, truncate=True)
            if not 200 <= page.status < 300:
                await self._failed(job, None, page.status, f"target answered HTTP {page.status}", page.retry_after)
                return
            if self.ctx.settings.webmention.send:
                endpoint = wm.discover_endpoint(list(page.link_headers), page.text, page.url)
            if endpoint is None:
                await self._ping_or_give_up(job, page)
                return
            status = await post_form(http, endpoint, {"source": job.source, "target": job.target})
        except FetchError as error:
            await self._failed(job, endpoint, error.status, str(error), error.retry_after)
            return
        if 200 <= status < 300:
            await self._save(job, "sent", endpoint, status, None)
        else:
            await self._failed(job, endpoint, status, f"endpoint answered HTTP {status}", None)

    async def _ping_or_give_up(self, job: SentJob, page: Page) -> None:
        """No Webmention endpoint: a pingback.ping when the page names a pingback server, else nothing to send."""
        server = pingback.discover_server(page.x_pingback, page.text, page.url)
        if server is None or not self.ctx.settings.pingback.send:
            await self._save(job, "no_endpoint", None, None, None)
            return
        call = xmlrpc.dump_method_call(pingback.METHOD, (job.source, job.target))  # the URL our post links to
        try:
            status, body = await post_xml(get_http(self.ctx), server, call, xmlrpc.MAX_BODY_BYTES)
        except FetchError as error:
            await self._failed(job, server, error.status, str(error), error.retry_after, PINGBACK)
            return
        if not 200 <= status < 300:
            await self._failed(job, server, status, f"pingback server answered HTTP {status}", None, PINGBACK)
            return
        try:
            answer = xmlrpc.parse_method_response(body or b"")
        except xmlrpc.XmlRpcError as error:
            await self._save(job, "failed", server, status, f"pingback server answered: {error}", protocol=PINGBACK)
            return
        if not isinstance(answer, xmlrpc.Fault) or answer.code == pingback.ALREADY_REGISTERED:
            await self._save(job, "sent", server, status, None, protocol=PINGBACK)
        elif answer.code == pingback.UPSTREAM_ERROR:  # the server could not reach us: worth another try
            reason = f"pingback fault {answer.code}: {answer.message[:200]}"
            await self._failed(job, server, None, reason, None, PINGBACK)
        else:
            reason = f"pingback fault {answer.code}: {answer.message[:200]}"
            await self._save(job, "failed", server, status, reason, protocol=PINGBACK)

    async def _failed(
        self,
        job: SentJob,
        endpoint: str | None,
        status: int | None,
        reason: str,
        retry_after: float | None,
        protocol: str = WEBMENTION,
    ) -> None:
        retryable = wm.is_retryable(status) and not reason.startswith("refused")  # the SSRF guard's answer is final
        delay = wm.retry_delay(job.attempts + 1, retry_after) if retryable else None
        log.info("%s to %r not sent: %s", protocol, job.target[:200], reason)
        if delay is None:
            await self._save(job, "failed", endpoint, status, reason, protocol=protocol)
        else:
            await self._save(job, "pending", endpoint, status, reason, self.clock() + delay, protocol)

    async def _save(
        self,
        job: SentJob,
        state: str,
        endpoint: str | None,
        status: int | None,
        error: str | None,
        next_attempt_at: datetime | None = None,
        protocol: str = WEBMENTION,
    ) -> None:
        await self.store.save_sent(
            job.id, state, job.attempts + 1, next_attempt_at, endpoint, status, error, self.clock(), protocol
        )


def sending_enabled(ctx: Context) -> bool:
    """Post changes queue webmentions (and pingbacks) when `webmention.send` or `pingback.send` is on."""
    return bool(ctx.settings.webmention.send or ctx.settings.pingback.send)
