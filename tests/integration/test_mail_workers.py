"""E-mail with several workers on one database (run on PostgreSQL by make test-postgresql, on SQLite by make test):
two `fedblog worker` processes and a real SMTP server on 127.0.0.1 (aiosmtpd); every confirmation, reply mail,
post digest and author digest arrives exactly once. And a worker that dies mid-send: its leases lapse and another
worker sends what it held, once; one that stops (SIGTERM) mid-send: the mail in flight is marked sent, the rest and
the named leases are free at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fedblog.assembly import open_context
from fedblog.clock import utcnow
from fedblog.config import Settings, load_settings
from fedblog.context import Context
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.notifications import DIGEST_LEASE, Notifier, Outcome
from fedblog.services.posts import PostInput, PostService
from fedblog.services.subscriber_notifier import MAIL_LEASE, SubscriberNotifier
from fedblog.store.leases import LeaseStore
from fedblog.store.subscriptions import SubscriptionStore
from tests.conftest import LiveSite, SiteFactory, free_port, make_site
from tests.fakes.mail import AUTHOR_EMAIL, Clock, SmtpInbox, notifications
from tests.helpers import FEDBLOG, clean_env, publish

READERS = 12
ANSWERS_TO_RITA = 12  # more than the ten mails an hour an address may get


class SlowInbox(SmtpInbox):
    """Takes a while over each message, as a real server does, so that two workers' rounds overlap."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def mail_site(directory: Path, smtp_port: int) -> Settings:
    overrides = notifications(smtp_port, from_address="blog@example.org", interval_seconds=1)
    overrides["comments"] |= {"moderation": "open", "rate_limit_per_minute": 10_000}
    overrides["webmention"] = {"send": False}
    return load_settings(make_site(directory, f"http://127.0.0.1:{free_port()}", overrides=overrides), environ={})


def reader(n: int) -> str:
    return f"reader{n}@example.org"


async def comment(ctx: Context, slug: str, email: str, text: str, **boxes: str) -> int:
    post = await ctx.posts.get_post_by_slug(slug)
    assert post is not None
    result = await CommentService(ctx).submit_web_comment(
        post, CommentForm(name=email.split("@")[0], email=email, message=text, **boxes), ip=None
    )
    assert result.comment is not None, result.errors
    return result.comment.id


def kinds(inbox: SmtpInbox) -> Counter[tuple[str, str]]:
    """(recipient, what) per message received."""

    def what(to: str, subject: str) -> str:
        if to == AUTHOR_EMAIL:
            return "author digest"
        for word, kind in (("Confirm", "confirm"), ("replied", "reply"), ("new comment", "digest")):
            if word in subject:
                return kind
        return subject

    return Counter((str(m["To"]), what(str(m["To"]), str(m["Subject"]))) for m in inbox.messages)


async def wait_for(inbox: SmtpInbox, count: int, what: str, timeout: float = 60) -> None:
    for _ in range(int(timeout * 20)):
        if len(inbox.messages) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: {len(inbox.messages)} of {count} mails after {timeout:.0f} s: {kinds(inbox)}")


async def test_two_workers__every_mail_is_sent_exactly_once(tmp_path: Path) -> None:
    smtp = SlowInbox(free_port())
    await smtp.start()
    settings = mail_site(tmp_path / "site", smtp.port)
    async with open_context(settings) as ctx:
        post = await PostService(ctx).publish(PostInput(title="Shared", body_markdown="Body"))
        # Given twelve readers who asked for replies and one for the post's new comments, none confirmed yet
        comment_ids = [await comment(ctx, post.slug, reader(n), f"Hi {n}", notify_replies="on") for n in range(READERS)]
        await comment(ctx, post.slug, "dora@example.org", "Tell me more", notify_post="on")
        rita = await comment(ctx, post.slug, "rita@example.org", "Answer me, often", notify_replies="on")
    env = clean_env()
    log = (tmp_path / "workers.log").open("wb")
    workers = [
        await asyncio.create_subprocess_exec(
            FEDBLOG, "--config", str(settings.root / "fedblog.toml"), "worker", env=env, stdout=log, stderr=log
        )
        for _ in range(2)
    ]
    try:
        # When two workers run on the same database: the confirmations go out
        await wait_for(smtp, READERS + 2, "the confirmations")
        async with open_context(settings) as ctx:
            store = SubscriptionStore(ctx.db)
            for row in await ctx.db.fetch_all("SELECT id FROM subscribers"):
                await store.confirm(row["id"], utcnow())
            # and then the author answers every reader, and one more visitor comments (the author's digest)
            service = CommentService(ctx)
            for comment_id in comment_ids:
                await service.reply_as_author(comment_id, f"Thanks for comment {comment_id}")
            for number in range(ANSWERS_TO_RITA):
                await service.reply_as_author(rita, f"Answer number {number}")
            await comment(ctx, post.slug, "walt@example.org", "A new voice")
        await wait_for(smtp, 2 * READERS + 4 + 9, "the replies and digests")
        await asyncio.sleep(3)  # three more rounds of each worker: a second copy, if any, would come now
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.terminate()
        for worker in workers:
            assert await asyncio.wait_for(worker.wait(), timeout=30) == 0, (tmp_path / "workers.log").read_text()
        log.close()
        await smtp.stop()
    # Then every mail came once: a confirmation and a reply to each reader, one digest to the post's subscriber
    # and one author's digest; and rita got ten mails in the hour, her confirmation and nine answers, not more
    expected = Counter({(reader(n), kind): 1 for n in range(READERS) for kind in ("confirm", "reply")})
    expected[("dora@example.org", "confirm")] = 1
    expected[("dora@example.org", "digest")] = 1
    expected[(AUTHOR_EMAIL, "author digest")] = 1
    expected[("rita@example.org", "confirm")] = 1
    expected[("rita@example.org", "reply")] = 9
    assert kinds(smtp) == expected


async def subscribed_readers(site: LiveSite, count: int) -> list[int]:
    """`count` confirmed readers who asked for replies, answered by the author: reply mails queued."""
    post = await publish(site)
    ids = [await comment(site.ctx, post.slug, reader(n), f"Hi {n}", notify_replies="on") for n in range(count)]
    store = SubscriptionStore(site.ctx.db)
    for row in await site.ctx.db.fetch_all("SELECT id FROM subscribers"):
        await store.confirm(row["id"], utcnow())
    async with site.ctx.db.transaction() as conn:  # the confirmations are not the point here
        await conn.execute("UPDATE subscriber_mails SET status = 'sent' WHERE kind = 'confirm'")
    for comment_id in ids:
        await CommentService(site.ctx).reply_as_author(comment_id, f"Thanks {comment_id}")
    return ids


@pytest.fixture
async def site(site_factory: SiteFactory, smtp: SmtpInbox) -> LiveSite:
    """A site in this process whose e-mail goes to `smtp`; the tests drive its notifiers with their own clock."""
    return await site_factory(overrides=notifications(smtp.port) | {"comments": {"moderation": "open"}})


async def test_a_killed_workers_leases_lapse__another_worker_sends_what_it_held_once(
    site: LiveSite, smtp: SmtpInbox
) -> None:
    clock = Clock()
    first = SubscriberNotifier(site.ctx, clock=clock)
    await first.start()
    await subscribed_readers(site, 3)
    # Given a worker that queued the reply mails and claimed them, then died before sending any
    await first.fan_out(clock())
    held = await first.store.claim_due(clock(), first.holder, clock() + MAIL_LEASE, 10)
    assert len(held) == 3
    # and a worker that died holding the author digest's lease
    leases = LeaseStore(site.ctx.db)
    assert await leases.take(DIGEST_LEASE, "dead worker", clock(), clock() + MAIL_LEASE)
    assert not await leases.take(DIGEST_LEASE, "live worker", clock(), clock() + MAIL_LEASE)
    # When another worker runs while the leases hold, it sends nothing
    second = SubscriberNotifier(site.ctx, clock=clock)
    assert await second.run_once() == 0
    assert smtp.messages == []
    # Then once they lapse it sends each mail, once, and takes the lease
    clock.advance(int(MAIL_LEASE.total_seconds()) + 1)
    assert await second.run_once() == 3
    assert await second.run_once() == 0
    assert sorted(str(m["To"]) for m in smtp.messages) == [reader(n) for n in range(3)]
    assert await leases.take(DIGEST_LEASE, "live worker", clock(), clock() + timedelta(minutes=1))


async def test_an_address_is_sent_to_by_one_worker_at_a_time__so_its_hourly_limit_holds(site: LiveSite) -> None:
    clock = Clock()
    first, second = SubscriberNotifier(site.ctx, clock=clock), SubscriberNotifier(site.ctx, clock=clock)
    await first.start()
    [mine] = await subscribed_readers(site, 1)
    for number in range(11):  # twelve answers in all: more than the ten an hour
        await CommentService(site.ctx).reply_as_author(mine, f"Answer number {number}")
    await first.fan_out(clock())
    # Given one worker holds some of her mails
    held = await first.store.claim_due(clock(), first.holder, clock() + MAIL_LEASE, 4)
    assert len(held) == 4
    # Then another worker takes none of hers meanwhile (it would count her mails sent before the first sends)
    assert await second.store.claim_due(clock(), second.holder, clock() + MAIL_LEASE, 10) == []
    # And once the first is gone and its leases lapse, the second sends ten in the hour, the rest later
    clock.advance(int(MAIL_LEASE.total_seconds()) + 1)
    assert await second.run_once() == 10
    assert await second.run_once() == 0
    clock.advance(3600)
    assert await second.run_once() == 2


class HeldInbox(SmtpInbox):
    """Holds its answer to each message until `answer` is set; `taking` is set once a message is being taken."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.taking = asyncio.Event()
        self.answer = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.taking.set()
        await self.answer.wait()
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def held_smtp() -> AsyncIterator[HeldInbox]:
    async with HeldInbox(free_port()) as inbox:
        yield inbox
        inbox.answer.set()  # a send still held ends before the server stops


async def stopped_mid_send(work: Awaitable[object], smtp: HeldInbox) -> None:
    """Run `work` until the SMTP server is taking a message, cancel it there (as a worker stopping on SIGTERM
    cancels its loops), then let the server answer; the work ends cancelled."""
    task = asyncio.ensure_future(work)
    await asyncio.wait_for(smtp.taking.wait(), timeout=30)
    task.cancel()
    smtp.answer.set()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_worker_stopping_mid_send__the_mail_in_flight_is_marked_sent_and_the_rest_freed_at_once(
    site_factory: SiteFactory, held_smtp: HeldInbox
) -> None:
    site = await site_factory(overrides=notifications(held_smtp.port) | {"comments": {"moderation": "open"}})
    clock = Clock()
    stopping = SubscriberNotifier(site.ctx, clock=clock)
    await stopping.start()
    await subscribed_readers(site, 3)
    # Given a worker's round that claimed three reply mails and is sending the first
    # When the worker stops before the SMTP server answered
    await stopped_mid_send(stopping.run_once(), held_smtp)
    # Then the mail in flight got its answer and is marked sent, and the two others are free at once: another
    # worker sends them now, without waiting for the lease (five minutes) to lapse, and nobody gets one twice
    assert len(held_smtp.messages) == 1
    rows = await site.ctx.db.fetch_all("SELECT status, locked_by FROM subscriber_mails WHERE kind = 'reply'")
    assert sorted(row["status"] for row in rows) == ["pending", "pending", "sent"]
    assert [row["locked_by"] for row in rows if row["status"] == "pending"] == [None, None]
    assert await SubscriberNotifier(site.ctx, clock=clock).run_once() == 2
    assert sorted(str(m["To"]) for m in held_smtp.messages) == [reader(n) for n in range(3)]


async def test_a_worker_stopping_mid_digest__the_digest_is_recorded_and_its_lease_freed(
    site_factory: SiteFactory, held_smtp: HeldInbox
) -> None:
    site = await site_factory(overrides=notifications(held_smtp.port) | {"comments": {"moderation": "hold_all"}})
    clock = Clock()
    stopping = Notifier(site.ctx, clock=clock)
    await stopping.start()
    post = await publish(site)
    await comment(site.ctx, post.slug, "vera@example.org", "Held for the author")
    # Given a worker sending the author's digest, when it stops before the SMTP server answered
    await stopped_mid_send(stopping.run_once(), held_smtp)
    # Then the digest the server took is recorded: the next worker sends nothing again, and the lease is free
    assert len(held_smtp.messages) == 1
    assert await Notifier(site.ctx, clock=clock).run_once() == Outcome.NOTHING_NEW
    assert await LeaseStore(site.ctx.db).take(DIGEST_LEASE, "next worker", clock(), clock() + timedelta(minutes=1))
    assert len(held_smtp.messages) == 1


async def test_fedblog_worker_stopped_with_sigterm_mid_send__leaves_no_mail_lease(
    tmp_path: Path, held_smtp: HeldInbox
) -> None:
    settings = mail_site(tmp_path / "site", held_smtp.port)
    async with open_context(settings) as ctx:
        post = await PostService(ctx).publish(PostInput(title="Stopping", body_markdown="Body"))
        # Given three readers who asked for replies, not confirmed yet: three confirmations to send
        for n in range(3):
            await comment(ctx, post.slug, reader(n), f"Hi {n}", notify_replies="on")
    log = (tmp_path / "worker.log").open("wb")
    worker = await asyncio.create_subprocess_exec(
        FEDBLOG, "--config", str(settings.root / "fedblog.toml"), "worker", env=clean_env(), stdout=log, stderr=log
    )
    try:
        # When the worker is sent SIGTERM while the SMTP server is taking one of them
        await asyncio.wait_for(held_smtp.taking.wait(), timeout=60)
        worker.terminate()
        held_smtp.answer.set()
        # Then it stops cleanly, soon
        assert await asyncio.wait_for(worker.wait(), timeout=30) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        log.close()
    # And it left no lease: what it sent is marked sent, the rest is free for the next worker now
    async with open_context(settings) as ctx:
        rows = await ctx.db.fetch_all("SELECT status, locked_by FROM subscriber_mails")
        named = await ctx.db.fetch_value("SELECT COUNT(*) FROM mail_leases")
    assert [row["locked_by"] for row in rows if row["status"] == "pending"] == [None] * (3 - len(held_smtp.messages))
    assert sum(row["status"] == "sent" for row in rows) == len(held_smtp.messages) >= 1
    assert named == 0
