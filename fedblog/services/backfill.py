"""Thread backfill: the public replies that grow under a fediverse comment without ever being delivered to the blog
(two Mastodon users answering each other under it) are read from the comment's `replies` collection, and from its
`context` collection when its server offers one (FEP-7888, FEP-f228), and placed in the thread.

When a fediverse comment is published (it arrived under open moderation, or the author approved it), a crawl job
is queued in the same transaction (`BackfillListener`); the worker runs it later, outside any transaction. A crawl
walks the sub-thread breadth first, within budgets (depth, requests, new comments, time; and comments per post over
all crawls), with a visited set against cycles. Collections give ids only: each reply is fetched from its own
origin with a signed GET (its id must equal the URL, its author must be on that origin, embedded copies are never
believed), must be public, and goes through `replies.store_note`: the same blocklist, tombstones, reply chain and
moderation as a delivered reply. A crawl only goes below comments that are published: a held comment's sub-thread
is read when the author approves it. Threads still active are crawled again every few hours.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fedblog.clock import from_text, utcnow
from fedblog.models import Comment, CommentOrigin, CommentStatus
from fedblog.protocol.activitystreams import first_id
from fedblog.protocol.actors import has_as2_context
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.collections import is_collection, read_page
from fedblog.services.http import FetchError, get_http
from fedblog.services.replies import fetch_object, parse_or_none, store_note
from fedblog.services.thread_placement import MAX_CHAIN_FETCHES, ChainBudget
from fedblog.services.webmention_worker import QueueWorker
from fedblog.store.backfill import BackfillStore, CrawlJob
from fedblog.store.comments import NewComment
from fedblog.store.db import Connection, StorageUnavailable, SyncConnection

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

MAX_DEPTH = 8  # levels below the comment whose sub-thread is read
MAX_REQUESTS = 60  # objects and collection pages fetched by one crawl
MAX_NEW_COMMENTS = 100  # comments one crawl may add
MAX_PER_POST = 500  # comments found by backfill in one post, over all crawls
MAX_PAGES = 5  # pages read in one collection
CRAWL_SECONDS = 60.0
RECRAWL_AFTER = timedelta(hours=6)
ACTIVE_FOR = timedelta(days=7)  # a thread with a comment this recent is crawled again
MAX_ATTEMPTS = 5

# Set while a crawl stores what it found: those comments' own sub-threads are read by the same crawl.
crawling: contextvars.ContextVar[bool] = contextvars.ContextVar("crawling", default=False)


class CrawlFailed(Exception):
    """The crawl could not start: the comment's Note could not be fetched."""


def retry_delay(attempts: int) -> timedelta | None:
    """After `attempts` failed starts: when to try again (None: give up)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(minutes=5 * 2 ** (attempts - 1))


@dataclass
class CrawlReport:
    requests: int = 0
    found: int = 0
    stopped_by: str | None = None  # the budget that ended the crawl early, if one did


@dataclass
class Crawl:
    """One crawl's budgets and what it has seen."""

    ctx: Context
    post_id: int
    per_post_left: int
    deadline: float = field(default_factory=lambda: time.monotonic() + CRAWL_SECONDS)
    report: CrawlReport = field(default_factory=CrawlReport)
    visited: set[str] = field(default_factory=set)

    def may_fetch(self) -> bool:
        if self.report.requests >= MAX_REQUESTS:
            self.report.stopped_by = "requests"
        elif time.monotonic() >= self.deadline:
            self.report.stopped_by = "time"
        else:
            return True
        return False

    def may_add(self) -> bool:
        if self.report.found >= min(MAX_NEW_COMMENTS, self.per_post_left):
            self.report.stopped_by = "comments"
            return False
        return True

    async def fetch_note(self, url: str) -> dict[str, Any] | None:
        self.report.requests += 1
        return await fetch_object(self.ctx, url)

    async def fetch_collection(self, url: str) -> dict[str, Any] | None:
        """A collection or page by a signed GET. Its id may differ from the URL in its query (Mastodon's pages),
        not in its origin."""
        self.report.requests += 1
        if self.ctx.urls.is_local(url):
            return None
        try:
            document = await get_http(self.ctx).get_json(url)
        except FetchError as error:
            log.info("could not fetch the collection %r: %s", url[:200], error)
            return None
        found_id = document.get("id")
        if not has_as2_context(document) or not is_collection(document):
            return None
        if found_id is not None and (not isinstance(found_id, str) or not same_origin(found_id, url)):
            return None
        return document


async def crawl(ctx: Context, comment: Comment) -> CrawlReport:
    """Read the sub-thread under `comment` (a published fediverse comment) and store what is new in it."""
    assert comment.remote_id is not None
    store = BackfillStore(ctx.db)
    job = Crawl(ctx, comment.post_id, MAX_PER_POST - await store.count_found(comment.post_id))
    job.visited.add(comment.remote_id)
    root = await job.fetch_note(comment.remote_id)
    if root is None:
        raise CrawlFailed(f"could not fetch {comment.remote_id[:200]}")
    pending: deque[tuple[dict[str, Any], int]] = deque([(root, 0)])
    context = root.get("context")
    token = crawling.set(True)
    try:
        if is_http_url(context) and not ctx.urls.is_local(context):
            for item in await collection_ids(job, context):
                await consider(job, item, 1, pending)
        while pending and job.report.stopped_by is None:
            document, depth = pending.popleft()
            if depth >= MAX_DEPTH:
                job.report.stopped_by = "depth"
                break
            for item in await collection_ids(job, document.get("replies")):
                await consider(job, item, depth + 1, pending)
    finally:
        crawling.reset(token)
    return job.report


async def collection_ids(job: Crawl, collection: Any) -> list[str]:
    """The ids a collection lists, embedded or by URL, over at most MAX_PAGES pages."""
    ids: list[str] = []
    link: Any = collection
    for _page in range(MAX_PAGES):
        if isinstance(link, str):
            if not is_http_url(link) or link in job.visited or not job.may_fetch():
                break
            job.visited.add(link)
            link = await job.fetch_collection(link)
        if not is_collection(link):
            break
        page = read_page(link)
        ids.extend(page.item_ids)
        link = page.next
    return ids


async def consider(job: Crawl, item: str, depth: int, pending: deque[tuple[dict[str, Any], int]]) -> None:
    """One id found in a collection: stored if new and ours, and queued so that its own replies are read."""
    if item in job.visited or job.ctx.urls.is_local(item):
        return
    job.visited.add(item)
    known = await job.ctx.comments.get_comment_by_remote_id(item)
    if known is not None and known.status != CommentStatus.APPROVED:
        return  # held or spam: its sub-thread waits for the author's approval
    if not job.may_fetch() or (known is None and not job.may_add()):
        return
    document = await job.fetch_note(item)
    if document is None:
        return
    author = first_id(document.get("attributedTo"))
    if not author or not same_origin(item, author):
        return
    if known is None:
        note = parse_or_none(document)
        if note is None or not note.visibility.is_shown_publicly:
            return
        # Its ancestors, if some are unknown, are fetched within what is left of the crawl's requests.
        chain = max(0, min(MAX_CHAIN_FETCHES, MAX_REQUESTS - job.report.requests))
        budget = ChainBudget(fetches_left=chain, found_by_backfill=True)
        stored = await store_note(job.ctx, note, author, budget)
        job.report.requests += chain - budget.fetches_left
        if stored is None or stored.post_id != job.post_id:
            return
        job.report.found += 1
        if stored.status != CommentStatus.APPROVED:
            return
    pending.append((document, depth))


class BackfillListener:
    """Queues a crawl when a fediverse comment is published, in the transaction that publishes it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def prepare(self, origin: CommentOrigin, parent: Comment | None) -> None:
        return None

    async def comment_approved(self, conn: Connection, comment: Comment) -> None:
        if crawling.get() or comment.origin != CommentOrigin.FEDIVERSE or not comment.remote_id:
            return
        if not comment.visibility.is_shown_publicly:
            return
        first_crawl = self._first_crawl(comment.created_at)
        await BackfillStore(self.ctx.db).enqueue(conn, comment.id, comment.post_id, first_crawl)
        self.ctx.runtime.backfill_wakeup.set()

    async def comment_removed(self, conn: Connection, comment: Comment) -> None:
        return None  # its job finds it unpublished and stops; a deleted comment takes its job with it

    def fediverse_reply_approved_sync(self, raw: SyncConnection, comment_id: int, new: NewComment) -> bool:
        """comment_approved for a reply the inbox publishes in one trip (never during a crawl)."""
        if not new.remote_id or not new.visibility.is_shown_publicly:
            return False
        first_crawl = self._first_crawl(from_text(new.created_at))
        BackfillStore.enqueue_sync(raw, comment_id, new.post_id, first_crawl)
        # The worker is woken only for a crawl due now: a fresh reply's comes minutes later, found by its poll
        # (waking it for each reply made it claim nothing, over and over, while replies poured in).
        return first_crawl <= utcnow()

    def _first_crawl(self, written_at: datetime | None) -> datetime:
        """When a comment's sub-thread is first worth reading: answers to it take a while to be written."""
        now = utcnow()
        wait = timedelta(minutes=self.ctx.settings.federation.backfill_first_crawl_minutes)
        return now if written_at is None else max(now, min(written_at, now) + wait)

    def fediverse_reply_approved_committed(self) -> None:
        self.ctx.runtime.backfill_wakeup.set()


class BackfillWorker(QueueWorker[CrawlJob]):
    concurrency = 2
    lock_duration = timedelta(minutes=10)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.queue = BackfillStore(ctx.db)

    async def claim(self, now: datetime, locked_until: datetime, limit: int) -> list[CrawlJob]:
        return await self.queue.claim(now, locked_until, limit)

    def wakeup(self) -> asyncio.Event:
        return self.ctx.runtime.backfill_wakeup

    async def process(self, job: CrawlJob) -> None:
        comment = await self.ctx.comments.get_comment(job.comment_id)
        now = self.clock()
        if comment is None or comment.status != CommentStatus.APPROVED or not comment.remote_id:
            await self.queue.finish(job.id, now, None, "the comment is no longer published")
            return
        try:
            report = await crawl(self.ctx, comment)
        except CrawlFailed as error:
            attempts = job.attempts + 1
            delay = retry_delay(attempts)
            await self.queue.retry(job.id, attempts, now + delay if delay else None, str(error))
            return
        except StorageUnavailable:
            raise  # nothing recorded: the lease runs out and the job is tried again (the loop says why, once)
        except Exception:
            log.exception("the backfill of comment %d failed", job.comment_id)
            await self.queue.retry(job.id, MAX_ATTEMPTS, None, "unexpected error (see the log)")
            return
        if report.found or report.stopped_by:
            log.info(
                "backfill of comment %d: %d found in %d requests%s", job.comment_id, report.found, report.requests,
                f", stopped by its {report.stopped_by} budget" if report.stopped_by else "",
            )  # fmt: skip
        await self.queue.finish(job.id, self.clock(), await self.recrawl_at(job.post_id), None)

    async def recrawl_at(self, post_id: int) -> datetime | None:
        last = from_text(await self.queue.last_comment_at(post_id))
        now = self.clock()
        return now + RECRAWL_AFTER if last is not None and now - last < ACTIVE_FOR else None
