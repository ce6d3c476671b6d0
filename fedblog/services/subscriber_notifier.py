"""E-mails to commenters who asked for them: replies to their comment, digests of a post's new comments.

Comments become published through many paths (the form, the inbox's one-trip writes, webmentions, the admin, the
CLI); triggers record each publication (migration 040), and this notifier reads them past a high-water mark, the
author digest's machinery (store/notifications.py). One step turns new publications into queued mails and moves the
mark in the same transaction; the other sends what is due, one mail at a time, each marked sent as soon as the SMTP
server took it. So a restart or an outage loses and duplicates nothing; a failure backs off (the author digest's
retry_delay), a mail that keeps failing is given up after MAX_ATTEMPTS, and no address gets more than MAX_PER_HOUR.
Held comments are published only when approved, so they send nothing before; blocked actors' comments send nothing.
Several workers: the due mails are claimed with a lease, and the fan-out runs in one worker at a time (its named
lease), so none is sent twice; a worker stopping on SIGTERM lets the mail in flight finish and frees the rest at
once, and a killed worker's leases lapse after MAIL_LEASE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from fedblog.clock import utcnow
from fedblog.context import Context
from fedblog.models import Comment, CommentOrigin, CommentStatus
from fedblog.services.blocks import is_blocked
from fedblog.services.comments import CommentService
from fedblog.services.notification_mail import build_message
from fedblog.services.notifications import (
    SMTP_ERRORS,
    MailLoop,
    Sender,
    describe_error,
    retry_delay,
    send_with_smtp,
    through_cancellation,
)
from fedblog.services.subscriber_mail import Links, Mail, confirmation_mail, digest_mail, reply_mail
from fedblog.services.subscriptions import Purpose, make_token
from fedblog.store.notifications import PUBLICATIONS, Mark, NotificationStore
from fedblog.store.subscriptions import QueuedMail, Subscriber, SubscriptionStore

log = logging.getLogger(__name__)

FAN_OUT_BATCH = 200
SEND_BATCH = 10
# How long a claimed mail (or the fan-out) stays a worker's: a batch sent at SMTP's timeout each fits, and a killed
# worker's mails go to another worker after it.
MAIL_LEASE = timedelta(minutes=5)
FAN_OUT_LEASE = "commenter mails fan-out"
MAX_PER_HOUR = 10  # e-mails per address per hour; the rest wait
MAX_ATTEMPTS = 12  # about a day of retries at the longest delay
RETRY_BASE_SECONDS = 60


def is_shown(comment: Comment | None) -> bool:
    return comment is not None and comment.status == CommentStatus.APPROVED and comment.visibility.is_shown_publicly


class SubscriberNotifier(MailLoop):
    """One per `fedblog serve`; `run_once()` is one round (tests call it with their own clock), a round per
    notifications.interval_seconds (a minute by default), as the author's digest."""

    failure_message = "the commenters' e-mails failed; trying again next period"

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utcnow, send: Sender = send_with_smtp) -> None:
        super().__init__(ctx, clock, send)
        self.store = SubscriptionStore(ctx.db)
        self.marks = NotificationStore(ctx.db)
        self.paused_until: datetime | None = None

    @property
    def enabled(self) -> bool:
        return CommentService(self.ctx).offers_notifications()

    async def start(self) -> None:
        """Announce from now on (no mails about the past when turned on); when off, keep no publications."""
        if self.enabled:
            await self.marks.start_marks(self.clock(), (PUBLICATIONS,))
        else:
            await self.marks.clear_marks((PUBLICATIONS,))
            await self.store.forget_all_publications()

    async def run_once(self) -> int:
        """Queue what was published, send what is due; how many mails went out."""
        async with self._lock:
            now = self.clock()
            if not self.enabled:  # (the author may turn it on from the admin: the next round starts from then)
                return 0
            while await self.fan_out(now):
                pass
            return await self.send_due(now)

    # -- publications to queued mails ----------------------------------------------------------------------------

    async def fan_out(self, now: datetime) -> int:
        """One batch of publications past the mark; how many were read (0: none left). In one worker at a time
        (the fan-out lease): two would read the same batch, and one could move the mark back."""
        if await self._past_mark(now) is None:  # read only: an idle round writes nothing (cached pages)
            return 0
        async with self.leases.held(FAN_OUT_LEASE, self.holder, now, now + MAIL_LEASE) as ours:
            return await self._fan_out_batch(now) if ours else 0

    async def _past_mark(self, now: datetime) -> tuple[int, int] | None:
        """The publications past the mark, (after, up to); None when there are none."""
        marks = await self.marks.marks()
        if PUBLICATIONS not in marks:
            await self.marks.start_marks(now, (PUBLICATIONS,))
            return None
        top = await self.marks.top(PUBLICATIONS)
        after = await self.marks.resolve(PUBLICATIONS, marks[PUBLICATIONS])
        return None if top.last_id <= after else (after, top.last_id)

    async def _fan_out_batch(self, now: datetime) -> int:
        past = await self._past_mark(now)  # again under the lease: another worker may have moved the mark
        if past is None:
            return 0
        after, upto = past
        events = await self.store.publications_past(after, upto, FAN_OUT_BATCH)
        if not events:
            return 0
        mails: list[tuple[int, int, str, int]] = []
        for event in events:
            comment = await self.ctx.comments.get_comment(event.comment_id)
            if comment is not None and await self._announced(comment):
                mails += await self._mails_for(comment)
        last = events[-1]
        async with self.ctx.db.transaction() as conn:
            await self.store.queue_announcements(conn, mails, now)
            await NotificationStore.move_marks(conn, {PUBLICATIONS: Mark(last.id, last.stamp)}, now)
            await self.store.forget_publications_before(conn, last.id)
        return len(events)

    async def _announced(self, comment: Comment) -> bool:
        if not is_shown(comment):
            return False
        actor_id = comment.author.actor_id
        return not (comment.origin == CommentOrigin.FEDIVERSE and actor_id and await is_blocked(self.ctx, actor_id))

    async def _mails_for(self, comment: Comment) -> list[tuple[int, int, str, int]]:
        """A reply mail to each subscriber to the parent's replies; a digest line to each post subscriber who does
        not get that reply mail. Nobody is told of their own comment."""
        own = (comment.author.email or "").lower()
        listeners = await self.store.listeners_of(comment.post_id, comment.parent_id)
        told: set[int] = set()
        mails: list[tuple[int, int, str, int]] = []
        for kind in ("replies", "post"):
            for subscription, subscriber in listeners:
                if subscription.kind != kind or subscriber.email == own or subscriber.id in told:
                    continue
                told.add(subscriber.id)
                mails.append((subscriber.id, subscription.id, "reply" if kind == "replies" else "digest", comment.id))
        return mails

    # -- sending -------------------------------------------------------------------------------------------------

    async def send_due(self, now: datetime) -> int:
        if self.paused_until is not None and now < self.paused_until:
            return 0
        sent = settled = 0  # settled: the claimed mails whose outcome is recorded
        claimed = await self.store.claim_due(now, self.holder, now + MAIL_LEASE, SEND_BATCH)
        try:
            for mail in claimed:
                try:
                    # A worker stopping meanwhile lets the mail in flight get its answer and be marked sent.
                    sent += await through_cancellation(self._send_one(mail, now))
                except SMTP_ERRORS as error:
                    await self._failed(mail, error, now)
                    settled += 1
                    break  # the server is down or refusing: the rest waits for the next round
                settled += 1
        finally:
            # The rest is free at once for any worker, however the round ended (a worker stopping on SIGTERM
            # included), rather than after its lease.
            if settled < len(claimed):
                await self.store.release([mail.id for mail in claimed[settled:]], self.holder)
        return sent

    async def _send_one(self, mail: QueuedMail, now: datetime) -> int:
        subscriber = await self.store.get_subscriber(mail.subscriber_id)
        if subscriber is None:
            return 0
        if mail.kind != "confirm" and subscriber.confirmed_at is None:
            await self.store.drop([mail.id])
            return 0
        recent = await self.store.sent_since(subscriber.id, now - timedelta(hours=1))
        if len(recent) >= MAX_PER_HOUR:
            await self.store.postpone([mail.id], recent[-MAX_PER_HOUR] + timedelta(hours=1))
            return 0
        prepared = await self._prepare(mail, subscriber, now)
        if prepared is None:
            return 0
        content, mail_ids, digest_of = prepared
        message = build_message(
            self.settings,
            self.ctx.urls,
            content.subject,
            content.body,
            now,
            to=subscriber.email,
            headers=content.headers,
        )
        metrics = self.ctx.runtime.metrics
        try:
            await self.send(self.settings, message)
        except Exception:
            if metrics is not None:
                metrics.email_sent("commenter", sent=False)
            raise
        if metrics is not None:
            metrics.email_sent("commenter", sent=True)
        await self.store.mark_sent(mail_ids, now, digest_of=digest_of)
        self.failures, self.paused_until = 0, None
        log.info("commenter e-mail sent (%s, %d item(s))", mail.kind, len(mail_ids))
        return 1

    async def _prepare(
        self, mail: QueuedMail, subscriber: Subscriber, now: datetime
    ) -> tuple[Mail, list[int], int | None] | None:
        """The mail's content, the queue rows it settles and the digest's subscription; None when there is nothing
        to send (dropped or postponed here)."""
        title, urls, i18n = self.ctx.settings.site.title, self.ctx.urls, self.ctx.i18n
        if mail.kind == "confirm":
            subscriptions = await self.store.subscriptions_of(subscriber.id)
            if not subscriptions:
                await self.store.drop([mail.id])
                return None
            links = self._links(subscriber.id, None, confirm=True)
            return confirmation_mail(title, subscriptions[-1].post_title, links, i18n), [mail.id], None
        subscription = await self.store.get_subscription(mail.subscription_id or 0)
        if subscription is None:
            await self.store.drop([mail.id])
            return None
        links = self._links(subscriber.id, subscription.id)
        if mail.kind == "reply":
            reply = await self.ctx.comments.get_comment(mail.comment_id or 0)
            if reply is None or not is_shown(reply):
                await self.store.drop([mail.id])
                return None
            return reply_mail(title, reply, urls, links, i18n), [mail.id], None
        period = timedelta(minutes=self.ctx.settings.comments.digest_minutes)
        pending = await self.store.pending_digest(subscription.id)
        if subscription.last_digest_at is not None and now < subscription.last_digest_at + period:
            await self.store.postpone([item.id for item in pending], subscription.last_digest_at + period)
            return None
        comments = await self.ctx.comments.get_comments([item.comment_id or 0 for item in pending])
        shown = {comment.id: comment for comment in comments if is_shown(comment)}
        gone = [item.id for item in pending if item.comment_id not in shown]
        if gone:
            await self.store.drop(gone)
        if not shown:
            return None
        listed = [shown[key] for key in sorted(shown)]
        content = digest_mail(title, subscription.post_title, listed, urls, links, i18n)
        return content, [item.id for item in pending if item.comment_id in shown], subscription.id

    def _links(self, subscriber_id: int, subscription_id: int | None, confirm: bool = False) -> Links:
        urls = self.ctx.urls

        def link(path: str, purpose: Purpose, row_id: int) -> str:
            return urls.subscriptions(path, make_token(self.ctx, purpose, row_id))

        return Links(
            stop=link("/stop", Purpose.STOP, subscription_id) if subscription_id is not None else None,
            stop_all=link("/stop-all", Purpose.STOP_ALL, subscriber_id),
            manage=link("", Purpose.MANAGE, subscriber_id),
            confirm=link("/confirm", Purpose.CONFIRM, subscriber_id) if confirm else None,
        )

    async def _failed(self, mail: QueuedMail, error: BaseException, now: datetime) -> None:
        self.failures += 1
        attempts = mail.attempts + 1
        delay = retry_delay(attempts, RETRY_BASE_SECONDS)
        self.paused_until = now + timedelta(seconds=retry_delay(self.failures, RETRY_BASE_SECONDS))
        reason = describe_error(error, self.settings)
        give_up = attempts >= MAX_ATTEMPTS
        log.warning(
            "a commenter e-mail through %s:%d failed (attempt %d%s): %s",
            self.settings.smtp_host,
            self.settings.smtp_port,
            attempts,
            ", given up" if give_up else f", next in {delay} s",
            reason,
        )
        ids = [mail.id]
        if mail.kind == "digest" and mail.subscription_id is not None:
            ids = [item.id for item in await self.store.pending_digest(mail.subscription_id)]
        await self.store.record_failure(ids, reason, now + timedelta(seconds=delay), give_up)
