"""Receiving webmentions: check and queue synchronously (the endpoint answers 202), verify in a worker.

The queue is the `webmentions_received` table (state, next attempt, lock): a restart loses nothing. The worker
verifies a bounded batch at a time: it fetches the source through the SSRF-guarded client, checks that it really
links to the target, reads the author and the text (microformats2, off the event loop), and keeps one comment of
origin `webmention` per (source, target), moderated like a first-time commenter's. A source that answers 410 (or
another final error) or no longer links removes that comment; a source that cannot be reached is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from fedblog.clock import to_text, utcnow
from fedblog.models import Comment, CommentOrigin, CommentStatus, Post, PostKind
from fedblog.protocol import pingback as pb
from fedblog.protocol import webmention as wm
from fedblog.protocol.addresses import hostname_of
from fedblog.services.comments import Admission, admit, moderated_status
from fedblog.services.http import FetchError, get_http
from fedblog.services.ping_comments import keep_ping
from fedblog.services.webmention_http import fetch_page
from fedblog.services.webmention_worker import QueueWorker
from fedblog.store.blocks import BlockStore
from fedblog.store.comments import NewComment, PageAuthor
from fedblog.store.db import Connection, StorageUnavailable
from fedblog.store.webmentions import ReceivedJob, ReceivedOutcome, WebmentionStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

CONCURRENCY = 4  # verifications at once
MAX_PENDING_PER_HOST = 50  # queued verifications per source host: a flood waits for its backlog
LOCK_DURATION = timedelta(minutes=5)
POLL_SECONDS = 5.0
POST_PATH = re.compile(r"^/posts/([^/]+)$")
PAGE_PATH = re.compile(r"^/([^/]+)$")  # a page answers at /SLUG/, normalised without its slash


class QueueFull(Exception):
    """Too many verifications already queued for this source host (429)."""


# --- accepting --------------------------------------------------------------------------------------------------


async def post_for_target(ctx: Context, target: str) -> Post | None:
    """The published post (/posts/SLUG) or page (/SLUG/) a target URL names (query ignored), or None."""
    wanted, base = urlsplit(wm.normalize_url(target)), urlsplit(wm.normalize_url(ctx.urls.base))
    if (wanted.scheme, wanted.netloc) != (base.scheme, base.netloc):
        return None
    for pattern, kind in ((POST_PATH, PostKind.POST), (PAGE_PATH, PostKind.PAGE)):
        if match := pattern.match(wanted.path):
            found = await ctx.posts.get_post_by_slug(unquote(match.group(1)))
            return found if found is not None and found.kind == kind else None
    return None


async def accept_webmention(ctx: Context, source: str, target: str, ip: str | None) -> None:
    """§3.2.1: validate, then queue the verification. Raises wm.InvalidRequest (400) or QueueFull (429)."""
    source, target = source.strip(), target.strip()
    wm.check_request(source, target)
    if ctx.urls.is_local(source):  # the blog's own pages (its search, another post) would speak in its name
        raise wm.InvalidRequest("'source' must be a page of another site.")
    post = await post_for_target(ctx, target)
    if post is None:
        raise wm.InvalidRequest("'target' is not a published post or page of this blog.")
    if await BlockStore(ctx.db).is_blocked(source):
        raise wm.InvalidRequest("Mentions from this source are not accepted.")
    store = WebmentionStore(ctx.db)
    if await store.count_pending_from(hostname_of(source)) >= MAX_PENDING_PER_HOST:
        raise QueueFull()
    async with ctx.db.transaction() as conn:
        await store.queue_received(conn, source, wm.normalize_url(target), post.id, ip, utcnow())
    wakeup_event(ctx).set()


def wakeup_event(ctx: Context) -> asyncio.Event:
    return ctx.runtime.webmention_verify_wakeup


# --- verifying --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a fetch of the source says: keep (with the mention), drop (final), or retry."""

    action: str  # keep | drop | retry
    reason: str = ""
    mention: wm.Mention | None = None  # a webmention's
    ping: pb.SourceContext | None = None  # a pingback's or trackback's
    retry_after: float | None = None


class WebmentionVerifier(QueueWorker[ReceivedJob]):
    """Drains the verification queue. `run()` lives inside `fedblog serve`; `run_once()` does one batch."""

    concurrency = CONCURRENCY
    lock_duration = LOCK_DURATION
    poll_seconds = POLL_SECONDS

    async def claim(self, now: datetime, locked_until: datetime, limit: int) -> list[ReceivedJob]:
        return await self.store.claim_received(now, locked_until, limit)

    def wakeup(self) -> asyncio.Event:
        return wakeup_event(self.ctx)

    async def process(self, job: ReceivedJob) -> None:
        try:
            verdict = await self.verify(job)
            await self.record(job, verdict)
        except asyncio.CancelledError:
            raise
        except StorageUnavailable:
            raise  # nothing recorded: the lease runs out and the job is tried again (the loop says why, once)
        except Exception as error:  # a bug, or a page no parser survives: a failed attempt, retried up to the limit
            log.exception("verifying the webmention from %r failed", job.source[:200])
            with contextlib.suppress(Exception):  # else the lock expires and the job is tried again
                await self.record(job, Verdict("retry", f"{type(error).__name__} while verifying"))

    async def verify(self, job: ReceivedJob) -> Verdict:
        if await BlockStore(self.ctx.db).is_blocked(job.source):
            return Verdict("drop", "source blocked")
        try:
            page = await fetch_page(
                get_http(self.ctx), job.source, accept=wm.ACCEPT, types=wm.HTML_TYPES | wm.TEXT_TYPES
            )
        except FetchError as error:
            # No answer: try again later; an answer we refuse (too large) or an address the SSRF guard refuses: final.
            retry = error.status is None and not str(error).startswith("refused")
            return Verdict("retry" if retry else "drop", str(error))
        if not 200 <= page.status < 300:
            action = "retry" if wm.is_retryable(page.status) else "drop"
            return Verdict(action, f"HTTP {page.status}", retry_after=page.retry_after)
        if page.text is None:
            return Verdict("drop", f"not a text document ({page.content_type[:60]})")
        if not wm.source_links_to(page.text, page.content_type, page.url, job.target):
            return Verdict("drop", "the source does not link to the target")
        if job.protocol == "webmention":
            mention = await asyncio.to_thread(wm.parse_mention, page.text, page.content_type, job.source, job.target)
            return Verdict("keep", mention=mention)
        if job.protocol == "trackback":
            summary = pb.trackback_summary(job.claimed_title, job.claimed_excerpt, job.claimed_blog_name, job.source)
        else:
            summary = await asyncio.to_thread(
                pb.ping_summary, page.text, page.content_type, page.url, job.source, job.target
            )
        return Verdict("keep", ping=summary)

    async def record(self, job: ReceivedJob, verdict: Verdict) -> None:
        now = self.clock()
        attempts = job.attempts + 1
        existing = await self.ctx.comments.get_comment(job.comment_id) if job.comment_id else None
        if verdict.action == "retry":
            delay = wm.retry_delay(attempts, verdict.retry_after)
            state = "pending" if delay is not None else "failed"
            outcome = ReceivedOutcome(
                state, attempts, now + delay if delay else None, verdict.reason, comment_id=job.comment_id
            )
            async with self.ctx.db.transaction() as conn:
                await self.store.save_received(conn, job.id, outcome, now)
            return
        if verdict.action == "drop" or (verdict.mention is None and verdict.ping is None):
            log.info("%s from %r dropped: %s", job.protocol, job.source[:200], verdict.reason)
            async with self.ctx.db.transaction() as conn:
                if existing is not None:
                    await self._remove(conn, existing)
                await self.store.save_received(
                    conn, job.id, ReceivedOutcome("rejected", attempts, None, verdict.reason), now
                )
            return
        if verdict.ping is not None:
            await keep_ping(self.ctx, job, verdict.ping, existing, attempts, now)
        elif verdict.mention is not None:
            await self._keep(job, verdict.mention, existing, attempts, now)

    async def _keep(
        self, job: ReceivedJob, mention: wm.Mention, existing: Comment | None, attempts: int, now: datetime
    ) -> None:
        content = wm.excerpt_html(mention.excerpt)
        # Without an h-card URL the author is the source's site: its name is the host, its link the site's root.
        mention = replace(mention, author_url=mention.author_url or wm.site_root(job.source))
        key = wm.author_key(mention.author_url, job.source)
        trusted = await self.store.author_is_trusted(key)
        if existing is None or existing.post_id != job.post_id:
            new = NewComment(
                post_id=job.post_id,
                parent_id=await self._replied_comment(mention, job.post_id),
                author_id=0,
                origin=CommentOrigin.WEBMENTION,
                status=CommentStatus.PENDING,
                content_html=content,
                remote_url=job.source,
            )
            author = PageAuthor(mention.author_name, mention.author_url, mention.author_photo, to_text(now))

            async def record_verified(conn: Connection, comment: Comment) -> None:
                outcome = ReceivedOutcome("verified", attempts, None, None, mention.kind, key, comment.id)
                await self.store.save_received(conn, job.id, outcome, now)

            await admit(self.ctx, Admission(new, author, trusted=trusted), also=record_verified)
            return
        # The same source mentions the same post again: its text and author are brought up to date.
        status = await moderated_status(self.ctx, job.post_id, trusted)
        async with self.ctx.db.transaction() as conn:
            who = existing.author
            if (who.name, who.profile_url, who.avatar_url) != (
                mention.author_name,
                mention.author_url,
                mention.author_photo,
            ):
                await self.store.update_author(
                    conn, who.id, mention.author_name, mention.author_url, mention.author_photo
                )
            changed = existing.content_html != content or who.profile_url != mention.author_url
            if existing.content_html != content:
                await self.ctx.comments.update_content(conn, existing.id, content, "", False, (), to_text(now))
            if changed and existing.status == CommentStatus.APPROVED and status != CommentStatus.APPROVED:
                # An approved mention whose text or author changed is moderated again, like a new one.
                await self.ctx.comments.set_status(conn, existing.id, CommentStatus.PENDING)
                for listener in self.ctx.comment_listeners:
                    await listener.comment_removed(conn, existing)
            outcome = ReceivedOutcome("verified", attempts, None, None, mention.kind, key, existing.id)
            await self.store.save_received(conn, job.id, outcome, now)

    async def _replied_comment(self, mention: wm.Mention, post_id: int) -> int | None:
        """The published comment of this post that the mention answers (its writer then hears of the reply, as of
        any other), else None: the mention goes under the post."""
        if mention.replied_comment is None:
            return None
        parent = await self.ctx.comments.get_comment(mention.replied_comment)
        if parent is None or parent.post_id != post_id or parent.status != CommentStatus.APPROVED:
            return None
        return parent.id

    async def _remove(self, conn: Connection, comment: Comment) -> None:
        if comment.status == CommentStatus.APPROVED:
            for listener in self.ctx.comment_listeners:
                await listener.comment_removed(conn, comment)
        await self.ctx.comments.delete_comment(conn, comment.id)
        await self.store.forget_author(conn, comment.author.id)
        await self.store.forget_ping_author(conn, comment.author.id)
