"""E-mail notifications for the author: one digest per period of what is new, whoever created it.

Comments come from the web form, the fediverse inbox (one-trip writes), webmentions and the CLI; rather than a hook in
each, the notifier reads what lies past a durable high-water mark (store/notifications.py). A digest is built from a
snapshot up to the newest rows, sent, and the marks move to that snapshot only once the SMTP server accepted it:
a failed send leaves them (retried with backoff), a restart finds them where the last accepted digest left them.
A round with news runs under a named lease (store/leases.py): with several workers, one sends the digest.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import TypeVar

import aiosmtplib

from fedblog.clock import utcnow
from fedblog.config import NotificationSettings
from fedblog.context import Context
from fedblog.services.notification_mail import (
    LISTED,
    Digest,
    build_message,
    digest_body,
    digest_subject,
    trial_body,
    trial_subject,
)
from fedblog.services.supervision import log_failure
from fedblog.store.followers import ACCEPTED, PENDING
from fedblog.store.leases import LeaseStore
from fedblog.store.notifications import COMMENTS, FOLLOWERS, Mark, NotificationStatus, NotificationStore, Page

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30
MAX_RETRY_DELAY = 3600
# A round's lease outlasts a send at SMTP's timeout; a killed worker's lease lapses after it (store/leases.py).
LEASE_LENGTH = timedelta(minutes=5)
DIGEST_LEASE = "author digest"
SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)

Sender = Callable[[NotificationSettings, EmailMessage], Awaitable[None]]
T = TypeVar("T")


class Outcome(StrEnum):
    SENT = "sent"
    NOTHING_NEW = "nothing new"
    FAILED = "failed"
    WAITING = "waiting"  # backing off after a failure


class NotificationError(Exception):
    """Sending failed; the message is safe to show and log (no password)."""


def retry_delay(failures: int, interval: int) -> int:
    """Seconds before the next attempt after `failures` failed ones: the period, doubled each time, at most an hour."""
    return min(interval * 2 ** max(failures - 1, 0), max(MAX_RETRY_DELAY, interval))


def describe_error(error: BaseException, settings: NotificationSettings) -> str:
    """The error as one line, with the password (and its AUTH encodings) blanked should a server echo it."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    password = settings.smtp_password
    if password:
        user = settings.smtp_username
        for secret in (
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
        ):
            text = text.replace(secret, "***")
    return text[:500]


async def send_with_smtp(settings: NotificationSettings, message: EmailMessage) -> None:
    """Hand the message to the configured server; raises one of SMTP_ERRORS. Port 465 means implicit TLS."""
    implicit_tls = settings.smtp_port == 465
    # Flattened here with the message's own policy: aiosmtplib's would fold long headers into encoded words, and a
    # List-Unsubscribe URL must stay as it is. The envelope is the message's From and To.
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    await aiosmtplib.send(
        raw,
        sender=str(message["From"]),
        recipients=[str(message["To"])],
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        use_tls=implicit_tls,
        start_tls=settings.smtp_starttls and not implicit_tls,
        timeout=SMTP_TIMEOUT,
    )


@dataclass(frozen=True)
class Snapshot:
    digest: Digest
    marks: dict[str, Mark]  # where the marks go once the digest is accepted


async def through_cancellation(work: Awaitable[T]) -> T:
    """`work` (a send and its record) awaited to its end even when the caller is cancelled meanwhile (a worker
    stopping on SIGTERM): a message the SMTP server is taking gets its answer and is recorded as sent, rather than
    sent again by the next worker. The cancellation goes on after it."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task  # its send is bounded by SMTP_TIMEOUT
        raise


class MailLoop:
    """What both e-mail loops share (the author's digest here, the commenters' mails in subscriber_notifier): the
    context, a clock and a sender tests replace, the failures counted for backoff, one round at a time, and a
    round per notifications.interval_seconds that survives a failed round."""

    failure_message = "an e-mail round failed; trying again next period"

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utcnow, send: Sender = send_with_smtp) -> None:
        self.ctx = ctx
        self.clock = clock
        self.send = send
        self.failures = 0
        self._lock = asyncio.Lock()
        self.holder = uuid.uuid4().hex  # this loop's name on the leases it takes (store/leases.py)
        self.leases = LeaseStore(ctx.db)

    @property
    def settings(self) -> NotificationSettings:
        """Read at each use: the address and events can change from the admin's settings page."""
        return self.ctx.settings.notifications

    async def run_once(self) -> object:
        raise NotImplementedError

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval_seconds)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log_failure(log, self.failure_message)


class Notifier(MailLoop):
    """One per `fedblog serve`; `run_once()` is one period's work (tests call it with their own clock)."""

    failure_message = "the e-mail notifier failed; trying again next period"

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utcnow, send: Sender = send_with_smtp) -> None:
        super().__init__(ctx, clock, send)
        self.store = NotificationStore(ctx.db)
        self.next_attempt: datetime | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.email)

    async def start(self) -> None:
        """At serve start, before pages are cached: set missing marks (on) or forget them (off)."""
        if self.enabled:
            await self.store.start_marks(self.clock())
        else:
            await self.store.clear_marks()

    async def run_once(self) -> Outcome:
        async with self._lock:
            now = self.clock()
            if not self.enabled:
                return Outcome.NOTHING_NEW
            if self.next_attempt is not None and now < self.next_attempt:
                return Outcome.WAITING
            if await self.take_snapshot(now) is None:  # read only: an idle round writes nothing (cached pages)
                return Outcome.NOTHING_NEW
            # One worker at a time reads past the marks and sends: two would send the same digest.
            async with self.leases.held(DIGEST_LEASE, self.holder, now, now + LEASE_LENGTH) as ours:
                # A worker stopping meanwhile lets the round end: a digest the server took is recorded as sent.
                return await through_cancellation(self._digest_round(now)) if ours else Outcome.WAITING

    async def _digest_round(self, now: datetime) -> Outcome:
        snapshot = await self.take_snapshot(now)  # again under the lease: another worker may have sent it
        if snapshot is None:
            return Outcome.NOTHING_NEW
        if not snapshot.digest.total:
            # Only rows nobody asked about (spam, events turned off): step over them without a mail.
            await self.store.advance(snapshot.marks, now, sent_items=None)
            return Outcome.NOTHING_NEW
        message = self.digest_message(snapshot.digest, now)
        metrics = self.ctx.runtime.metrics
        try:
            await self.send(self.settings, message)
        except SMTP_ERRORS as error:
            if metrics is not None:
                metrics.email_sent("author_digest", sent=False)
            return await self._failed(error, now)
        if metrics is not None:
            metrics.email_sent("author_digest", sent=True)
        await self.store.advance(snapshot.marks, now, sent_items=snapshot.digest.total)
        self.failures, self.next_attempt = 0, None
        log.info("notification digest sent (%d items)", snapshot.digest.total)
        return Outcome.SENT

    async def _failed(self, error: BaseException, now: datetime) -> Outcome:
        self.failures += 1
        delay = retry_delay(self.failures, self.settings.interval_seconds)
        self.next_attempt = now + timedelta(seconds=delay)
        reason = describe_error(error, self.settings)
        log.warning(
            "sending the notification digest through %s:%d failed (attempt %d, next in %d s): %s",
            self.settings.smtp_host,
            self.settings.smtp_port,
            self.failures,
            delay,
            reason,
        )
        await self.store.record_failure(reason, now)
        return Outcome.FAILED

    async def take_snapshot(self, now: datetime) -> Snapshot | None:
        """What is new since the marks, up to the newest rows now; None when nothing is."""
        marks = await self.store.marks()
        if any(stream not in marks for stream in (COMMENTS, FOLLOWERS)):  # start() did not run: begin from now
            await self.store.start_marks(now)
            return None
        tops = {stream: await self.store.top(stream) for stream in (COMMENTS, FOLLOWERS)}
        after = {stream: await self.store.resolve(stream, marks.get(stream, Mark(0, None))) for stream in tops}
        if all(tops[stream].last_id <= after[stream] for stream in tops):
            return None
        on = set(self.settings.on)
        empty: Page = Page((), 0)

        async def comments(status: str, event: str) -> Page:
            if event not in on:
                return empty
            return await self.store.comments_past(after[COMMENTS], tops[COMMENTS].last_id, status, LISTED)

        async def followers(status: str) -> Page:
            if "followers" not in on:
                return empty
            return await self.store.followers_past(after[FOLLOWERS], tops[FOLLOWERS].last_id, status, LISTED)

        digest = Digest(
            held=await comments("pending", "held"),
            published=await comments("approved", "approved"),
            followers=await followers(ACCEPTED),
            requests=await followers(PENDING),
        )
        # A stream with nothing new keeps its mark as it is (resolved marks are not written back needlessly).
        moved = {stream: top for stream, top in tops.items() if top.last_id > after[stream]}
        return Snapshot(digest, moved)

    def digest_message(self, digest: Digest, now: datetime) -> EmailMessage:
        title = self.ctx.settings.site.title
        subject = digest_subject(digest, title, self.ctx.i18n)
        return build_message(
            self.settings, self.ctx.urls, subject, digest_body(digest, title, self.ctx.urls, self.ctx.i18n), now
        )


async def send_trial_message(ctx: Context, send: Sender = send_with_smtp) -> str:
    """`fedblog notifications test`: a test e-mail with the current settings; the address it went to, or
    NotificationError with the server's answer (never the password)."""
    settings = ctx.settings.notifications
    if not settings.email:
        raise NotificationError("notifications are off: set notifications.email (and smtp_host) first")
    title = ctx.settings.site.title
    message = build_message(
        settings, ctx.urls, trial_subject(title, ctx.i18n), trial_body(ctx.urls, ctx.i18n), utcnow()
    )
    try:
        await send(settings, message)
    except SMTP_ERRORS as error:
        raise NotificationError(
            f"{settings.smtp_host}:{settings.smtp_port} did not take the message: {describe_error(error, settings)}"
        ) from None
    return settings.email


@dataclass(frozen=True)
class NotificationSummary:
    """For the admin dashboard: never the password, nor the SMTP user."""

    enabled: bool
    email: str
    status: NotificationStatus


async def notification_summary(ctx: Context) -> NotificationSummary:
    settings = ctx.settings.notifications
    return NotificationSummary(bool(settings.email), settings.email, await NotificationStore(ctx.db).status())
