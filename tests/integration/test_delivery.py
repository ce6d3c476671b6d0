"""The delivery queue against loopback "remote" servers: one signed request per shared inbox, retries with
backoff, gone followers dropped, paused hosts, and a restart in the middle of a fan-out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fedblog.assembly import open_context
from fedblog.clock import from_text
from fedblog.config import load_settings
from fedblog.context import Context
from fedblog.services import delivery, followers_sync, http
from fedblog.services.delivery import LOCK_DURATION, DeliveryWorker
from fedblog.services.http import DeliveryResult, get_http
from fedblog.services.inbox import note_contact
from fedblog.services.posts import PostInput, PostService
from fedblog.store.deliveries import DeliveryStore, Result, WorkerRecord
from fedblog.store.followers import FollowerStore
from fedblog.store.outbox import OutboxStore
from fedblog.store.signature_styles import SignatureStyleStore
from tests.conftest import LiveSite, make_site
from tests.fakes.remote import RemoteInstance, start_remote
from tests.helpers import add_follower, eventually, fedblog


class Clock:
    """A clock the test moves by hand (backoffs are minutes to days)."""

    def __init__(self) -> None:
        # A little ahead of real time: jobs enqueued during the test (stamped with real time) are due at once.
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
async def offline_ctx(tmp_path: Path) -> AsyncIterator[Context]:
    """A site's context without the web app (so no background worker competes with the test's worker)."""
    config = make_site(
        tmp_path / "site", "https://blog.example", overrides={"federation": {"allow_private_addresses": True}}
    )
    async with open_context(load_settings(config, environ={})) as ctx:
        yield ctx


async def publish(ctx: Context, title: str = "News") -> str:
    return (await PostService(ctx).publish(PostInput(title=title, body_markdown="Body"))).slug


async def jobs(ctx: Context) -> list[Any]:
    return await ctx.db.fetch_all("SELECT * FROM deliveries ORDER BY id")


async def test_delivery__publish_sends_one_signed_create_per_server(
    site: LiveSite, remotes: list[RemoteInstance]
) -> None:
    # Given a started blog (its profile recorded at start), two followers on one server with a shared inbox,
    # and one on a server without
    outbox = OutboxStore(site.ctx.db)
    await eventually(lambda: outbox.latest_body("Update", f"{site.url}/actor"), "the profile recorded at start")
    mastodon = await start_remote(remotes, site.ctx, "127.0.0.1")
    other = await start_remote(remotes, site.ctx, "127.0.0.2", shared_inbox=False)
    for remote, name in ((mastodon, "alice"), (mastodon, "bob"), (other, "carol")):
        await add_follower(site.ctx, remote, name)
    # When the author publishes a post (the running server's worker delivers it)
    slug = await publish(site.ctx, "Fresh news")
    await eventually(lambda: _count(mastodon, other, 2), "two deliveries")
    # Then exactly two signed requests went out: one to the shared inbox, one to carol's inbox
    assert await DeliveryWorker(site.ctx).run_once() == 0
    assert [r.path for r in mastodon.received] == ["/inbox"]
    assert [r.path for r in other.received] == ["/users/carol/inbox"]
    for received in mastodon.received + other.received:
        assert received.verified, received.reason
        assert received.headers["Content-Type"] == "application/activity+json"
        create = received.activity
        assert create["type"] == "Create"
        assert create["actor"] == f"{site.url}/actor"
        assert create["object"]["type"] == "Note"
        assert create["object"]["id"] == f"{site.url}/posts/{slug}"
    # And an edit and a deletion follow the same way
    await PostService(site.ctx).edit(slug, PostInput(title="Fresh news", body_markdown="Corrected"))
    await eventually(lambda: _count(mastodon, other, 4), "the Updates")
    await PostService(site.ctx).delete(slug)
    await eventually(lambda: _count(mastodon, other, 6), "the Deletes")
    kinds = [r.activity["type"] for r in mastodon.received]
    assert kinds == ["Create", "Update", "Delete"]
    update, delete = mastodon.received[1].activity, mastodon.received[2].activity
    assert "Corrected" in update["object"]["content"] and update["object"]["updated"]
    assert delete["object"] == {
        "id": f"{site.url}/posts/{slug}",
        "type": "Tombstone",
        "formerType": "Note",
        "atomUri": f"{site.url}/posts/{slug}",
    }
    assert all(r.verified for r in mastodon.received + other.received)


async def _count(first: RemoteInstance, second: RemoteInstance, expected: int) -> bool:
    return len(first.received) + len(second.received) >= expected


async def test_delivery__failing_inbox_is_retried_with_growing_backoff(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    ctx, clock = offline_ctx, Clock()
    remote = await start_remote(remotes, ctx, "127.0.0.1", shared_inbox=False)
    remote.inbox_statuses["/users/dora/inbox"] = 500
    await add_follower(ctx, remote, "dora")
    await publish(ctx)
    worker = DeliveryWorker(ctx, clock=clock)
    waits = []
    for _ in range(3):
        assert await worker.run_once() == 1
        (job,) = await jobs(ctx)
        assert job["status"] == "pending"
        waits.append(from_text(job["next_attempt_at"]) - clock.now)  # type: ignore[operator]
        assert await worker.run_once() == 0  # not due yet: no request
        clock.advance(waits[-1])
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]
    assert len(remote.received) == 3
    # When the server recovers, the next attempt delivers
    remote.inbox_statuses.clear()
    assert await worker.run_once() == 1
    (job,) = await jobs(ctx)
    assert job["status"] == "delivered" and job["attempts"] == 4
    assert "HTTP 500" in (job["last_error"] or "") or job["last_error"] is None


async def test_delivery__retry_after_is_honoured(offline_ctx: Context, remotes: list[RemoteInstance]) -> None:
    ctx, clock = offline_ctx, Clock()
    remote = await start_remote(remotes, ctx, "127.0.0.1", shared_inbox=False)
    remote.inbox_statuses["/users/ed/inbox"] = 429
    remote.inbox_headers["/users/ed/inbox"] = {"Retry-After": "7200"}
    await add_follower(ctx, remote, "ed")
    await publish(ctx)
    await DeliveryWorker(ctx, clock=clock).run_once()
    (job,) = await jobs(ctx)
    assert from_text(job["next_attempt_at"]) == clock.now + timedelta(hours=2)


async def test_delivery__gone_follower_is_dropped(offline_ctx: Context, remotes: list[RemoteInstance]) -> None:
    ctx = offline_ctx
    remote = await start_remote(remotes, ctx, "127.0.0.1", shared_inbox=False)
    remote.inbox_statuses["/users/gone/inbox"] = 410
    await add_follower(ctx, remote, "gone")
    await add_follower(ctx, remote, "stays")
    await publish(ctx)
    await DeliveryWorker(ctx).run_once()
    followers = FollowerStore(ctx.db)
    assert await followers.get(remote.actor_id("gone")) is None
    assert await followers.get(remote.actor_id("stays")) is not None
    states = {row["inbox"]: row["status"] for row in await jobs(ctx)}
    assert states == {remote.inbox("gone"): "failed", remote.inbox("stays"): "delivered"}
    # The next post is not even queued for the gone follower
    await publish(ctx, "Second")
    assert [row["inbox"] for row in await jobs(ctx)][-1] == remote.inbox("stays")
    assert len(await jobs(ctx)) == 3


async def test_delivery__host_paused_after_failing_in_five_attempt_windows(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    # Given a host with five inboxes that answers 503 to everything
    ctx, clock = offline_ctx, Clock()
    remote = await start_remote(remotes, ctx, "127.0.0.1", shared_inbox=False)
    names = [f"u{n}" for n in range(5)]
    for name in names:
        remote.inbox_statuses[f"/users/{name}/inbox"] = 503
        await add_follower(ctx, remote, name)
    await publish(ctx)
    worker = DeliveryWorker(ctx, clock=clock)
    host_name = f"127.0.0.1:{remote.port}"

    async def host() -> Any:
        return await ctx.db.fetch_one("SELECT * FROM hosts WHERE host = ?", (host_name,))

    # When its five inboxes fail together, that is one failure of the host (one attempt window), not five
    assert await worker.run_once() == 5
    assert (await host())["consecutive_failures"] == 1
    # And each retry window that fails again counts one more: 1 min, 5 min, 30 min, 2 h later
    for wait, expected in ((timedelta(minutes=1), 2), (timedelta(minutes=5), 3), (timedelta(minutes=30), 4)):
        clock.advance(wait)
        assert await worker.run_once() == 5
        row = await host()
        assert row["consecutive_failures"] == expected and row["paused_until"] is None
    clock.advance(timedelta(hours=2))
    assert await worker.run_once() == 5
    row = await host()
    # Then after the fifth window the host is paused for 30 minutes
    assert row["consecutive_failures"] == 5
    paused_until = from_text(row["paused_until"])
    assert paused_until == clock.now + timedelta(minutes=30)
    # While paused, a new post's jobs are not sent
    await publish(ctx, "Another")
    clock.advance(timedelta(minutes=10))
    assert await worker.run_once() == 0
    assert len(remote.received) == 25
    status = {h.host: h for h in await DeliveryStore(ctx.db).status_by_host()}[host_name]
    assert status.retrying == 5 and status.pending == 5 and status.paused_until == paused_until
    # When the host contacts us (a verified inbound request), it is resumed and everything goes out
    remote.inbox_statuses.clear()
    await note_contact(ctx, remote.actor_id("u0"))
    assert await worker.run_once() == 10
    assert {row["status"] for row in await jobs(ctx)} == {"delivered"}


async def test_delivery__restart_in_the_middle_of_a_fan_out(tmp_path: Path, remotes: list[RemoteInstance]) -> None:
    config = make_site(
        tmp_path / "site", "https://blog.example", overrides={"federation": {"allow_private_addresses": True}}
    )
    settings = load_settings(config, environ={})
    clock = Clock()
    async with open_context(settings) as ctx:
        remote = await start_remote(remotes, ctx, "127.0.0.1", shared_inbox=False)
        names = [f"reader{n}" for n in range(6)]
        for name in names:
            await add_follower(ctx, remote, name)
        await publish(ctx)
        worker = DeliveryWorker(ctx, clock=clock)
        # Two deliveries complete and are recorded
        assert await worker.run_once(limit=2) == 2
        # Then the worker claims two more, sends one of them, and the process dies before recording anything
        claimed = await DeliveryStore(ctx.db).claim_due(clock.now, clock.now + LOCK_DURATION, 2, 10)
        await worker.http.post_activity(claimed[0].inbox, (await worker._body(claimed[0].activity_id)) or b"")
    # A new process starts: once the dead worker's locks expire, every remaining inbox gets the post
    clock.advance(LOCK_DURATION + timedelta(seconds=1))
    async with open_context(settings) as ctx:
        assert await DeliveryWorker(ctx, clock=clock).run_once() == 4
        assert {row["status"] for row in await jobs(ctx)} == {"delivered"}
    per_inbox = {name: len(remote.received_at(f"/users/{name}/inbox")) for name in names}
    in_flight = claimed[0].inbox.rsplit("/", 2)[-2]
    assert per_inbox == {name: 2 if name == in_flight else 1 for name in names}
    assert all(r.verified for r in remote.received)


async def test_queue_status__cli_and_admin_show_pending_retrying_failed_by_host(
    site: LiveSite, remotes: list[RemoteInstance]
) -> None:

    from tests.integration.blog_support import get
    from tests.integration.fed_support import admin_session

    outbox = OutboxStore(site.ctx.db)
    await eventually(lambda: outbox.latest_body("Update", f"{site.url}/actor"), "the profile recorded at start")
    remote = await start_remote(remotes, site.ctx, "127.0.0.1", shared_inbox=False)
    remote.inbox_statuses["/users/flaky/inbox"] = 500
    remote.inbox_statuses["/users/gone/inbox"] = 410
    for name in ("flaky", "gone"):
        await add_follower(site.ctx, remote, name)
    await publish(site.ctx)
    host = f"127.0.0.1:{remote.port}"
    await eventually(lambda: _jobs_settled(site.ctx), "both attempts recorded")
    out = (await fedblog("--config", str(site.settings.root / "fedblog.toml"), "queue", "status")).out
    assert "pending 0, retrying 1, failed 1" in out
    line = next(line for line in out.splitlines() if line.startswith(host))
    assert line.split()[1:4] == ["0", "1", "1"]
    session, _ = await admin_session(site)
    try:
        page = await get(site, "/admin/queue", session)
    finally:
        await session.close()
    assert page.status == 200
    assert host in page.text
    assert '<dd class="count-retrying">1</dd>' in page.text and '<dd class="count-failed">1</dd>' in page.text


async def _jobs_settled(ctx: Context) -> bool:
    rows = await jobs(ctx)
    return len(rows) == 2 and all(row["attempts"] == 1 and row["locked_until"] is None for row in rows)


async def test_profile_change__followers_get_an_update_person(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    import dataclasses

    from fedblog.services.federation import announce_profile_changes

    remote = await start_remote(remotes, offline_ctx, "127.0.0.1")
    await add_follower(offline_ctx, remote, "gil")
    # The first start records the profile (and tells the followers); an unchanged profile sends nothing more
    assert await announce_profile_changes(offline_ctx)
    assert not await announce_profile_changes(offline_ctx)
    # After the author edits the config and restarts, the new profile goes out as Update(Person)
    author = dataclasses.replace(offline_ctx.settings.author, display_name="Gilda's new name")
    settings = dataclasses.replace(offline_ctx.settings, author=author)
    restarted = dataclasses.replace(offline_ctx, settings=settings)
    assert await announce_profile_changes(restarted)
    await DeliveryWorker(restarted).run_once()
    updates = [r.activity for r in remote.received]
    assert [u["type"] for u in updates] == ["Update", "Update"]
    assert updates[-1]["object"]["id"] == "https://blog.example/actor"
    assert updates[-1]["object"]["type"] == "Person"
    assert updates[-1]["object"]["name"] == "Gilda's new name"
    assert all(r.verified for r in remote.received)


async def test_claim__bounded_per_host_so_one_big_server_does_not_starve_others(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    big = await start_remote(remotes, offline_ctx, "127.0.0.1", shared_inbox=False)
    small = await start_remote(remotes, offline_ctx, "127.0.0.2", shared_inbox=False)
    for n in range(6):
        await add_follower(offline_ctx, big, f"b{n}")
    await add_follower(offline_ctx, small, "s0")
    await publish(offline_ctx)
    clock = Clock()
    store = DeliveryStore(offline_ctx.db)
    claimed = await store.claim_due(clock.now, clock.now + LOCK_DURATION, 3, per_host=2)
    assert sorted(job.host for job in claimed) == sorted([f"127.0.0.1:{big.port}"] * 2 + [f"127.0.0.2:{small.port}"])
    # Claimed jobs are locked: another claim (another worker) does not get them
    again = await store.claim_due(clock.now, clock.now + LOCK_DURATION, 10, per_host=10)
    assert {job.id for job in again}.isdisjoint({job.id for job in claimed})
    assert len(again) == 4


async def test_claim__a_hosts_limit_holds_across_workers(offline_ctx: Context, remotes: list[RemoteInstance]) -> None:
    # Given five deliveries due to one host, whose limit is two at once
    big = await start_remote(remotes, offline_ctx, "127.0.0.1", shared_inbox=False)
    for n in range(5):
        await add_follower(offline_ctx, big, f"b{n}")
    await publish(offline_ctx)
    clock = Clock()
    store = DeliveryStore(offline_ctx.db)
    first = WorkerRecord("worker-a", "machine-a", 1, clock.now)
    second = WorkerRecord("worker-b", "machine-b", 2, clock.now)
    lease_end, alive = clock.now + LOCK_DURATION, clock.now - timedelta(seconds=30)
    # When one worker takes its two, then a worker of another machine claims
    taken = await store.claim_due(clock.now, lease_end, 10, per_host=2, worker=first, alive_since=alive)
    also = await store.claim_due(clock.now, lease_end, 10, per_host=2, worker=second, alive_since=alive)
    # Then the second gets none while the first's leases run
    assert len(taken) == 2 and also == []
    # And once the first has delivered one, the second may take one
    await offline_ctx.db.run_transaction(
        lambda raw: DeliveryStore.save_outcomes_sync(raw, [Result(taken[0].id, "delivered", 1)], [], clock.now)
    )
    also = await store.claim_due(clock.now, lease_end, 10, per_host=2, worker=second, alive_since=alive)
    assert len(also) == 1


async def test_claim__two_processes_claiming_at_once_never_take_the_same_job(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    # Given 40 deliveries due on 8 hosts, and a second process (its own database connections) beside this one
    for number in range(8):
        remote = await start_remote(remotes, offline_ctx, f"127.0.0.{number + 1}", shared_inbox=False)
        for n in range(5):
            await add_follower(offline_ctx, remote, f"f{number}-{n}")
    await publish(offline_ctx)
    clock = Clock()
    lease_end = clock.now + LOCK_DURATION
    async with open_context(offline_ctx.settings) as other:
        stores = [DeliveryStore(offline_ctx.db), DeliveryStore(other.db)]
        # When both claim at the same time, three jobs at a time, three claims each, until nothing is left
        taken: list[int] = []
        for _ in range(20):
            claims = await asyncio.gather(
                *(stores[n % 2].claim_due(clock.now, lease_end, 3, per_host=10) for n in range(6))
            )
            taken += [job.id for jobs in claims for job in jobs]
            if not any(claims):
                break
    # Then every job is taken once, by one of them
    assert len(taken) == len(set(taken)) == 40


async def test_worker__claims_a_batch_at_a_time_while_a_fan_out_runs(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    # Given 80 deliveries due on 10 hosts, for a worker sending 8 at once
    federation = replace(offline_ctx.settings.federation, delivery_concurrency=8, delivery_per_host=8)
    offline_ctx.settings = replace(offline_ctx.settings, federation=federation)
    servers = [await start_remote(remotes, offline_ctx, f"127.0.0.{n + 1}", shared_inbox=False) for n in range(10)]
    for number, remote in enumerate(servers):
        for n in range(8):
            await add_follower(offline_ctx, remote, f"f{number}-{n}")
    await publish(offline_ctx)
    worker = DeliveryWorker(offline_ctx)
    claims: list[int] = []
    claim_due = worker.store.claim_due

    async def counted(*args: Any, **kwargs: Any) -> list[Any]:
        claimed = await claim_due(*args, **kwargs)
        if claimed:
            claims.append(len(claimed))
        return claimed

    worker.store.claim_due = counted  # type: ignore[method-assign]
    # When its loop runs until every follower has the post
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _all_delivered(offline_ctx, 80), "every delivery recorded")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    # Then every inbox got it once, and the jobs were claimed at least a worker's concurrency at a time, the last
    # claim aside (what was left): not one claim, a write transaction, per delivery finished
    assert sorted(len(remote.received) for remote in servers) == [8] * 10
    assert all(r.verified for remote in servers for r in remote.received)
    assert sum(claims) == 80
    assert all(claimed >= 8 for claimed in claims[:-1]), claims


async def _all_delivered(ctx: Context, expected: int) -> bool:
    return sum(1 for row in await jobs(ctx) if row["status"] == "delivered") == expected


class AnsweringHttp:
    """The worker's HTTP client: every inbox answers 202 at once, but those in `hanging`, which answer once
    `release` is set; the inboxes sent to, in order."""

    def __init__(self, hanging: frozenset[str] = frozenset()) -> None:
        self.hanging = hanging
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def post_activity(self, inbox: str, body: bytes, extra_headers: dict[str, str] | None = None) -> Any:
        self.sent.append(inbox)
        if inbox in self.hanging:
            await self.release.wait()
        return DeliveryResult(status=202, retry_after=None, body_excerpt="")

    async def prepare_hosts(self, hosts: Any) -> None:
        pass

    def forget_hosts(self) -> None:
        pass


async def _fan_out_to(ctx: Context, hosts: int, concurrency: int) -> list[str]:
    """Followers on `hosts` servers (a shared inbox each), a worker sending `concurrency` at once, a post."""
    federation = replace(ctx.settings.federation, delivery_concurrency=concurrency, delivery_per_host=concurrency)
    ctx.settings = replace(ctx.settings, federation=federation)
    inboxes = [f"https://h{n}.example/inbox" for n in range(hosts)]
    async with ctx.db.transaction() as conn:
        for n, inbox in enumerate(inboxes):
            await FollowerStore(ctx.db).upsert(
                conn, actor_id=f"https://h{n}.example/users/a", inbox=f"https://h{n}.example/users/a/inbox",
                shared_inbox=inbox, handle=f"@a@h{n}.example", name="a", follow_activity_id=f"https://h{n}.example/f",
                follow_json="{}", status="accepted",
            )  # fmt: skip
    await publish(ctx)
    return inboxes


@contextlib.asynccontextmanager
async def running(worker: DeliveryWorker) -> AsyncIterator[None]:
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_worker__outcomes_written_at_once_when_every_slot_waits_for_them(
    offline_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given outcomes written at most once a minute, and 12 deliveries for a worker sending 3 at once to inboxes
    # that answer at once
    monkeypatch.setattr(delivery, "FLUSH_EVERY_SECONDS", 60.0)
    await _fan_out_to(offline_ctx, 12, concurrency=3)
    http = AnsweringHttp()
    worker = DeliveryWorker(offline_ctx, http=http)
    # When it runs
    async with running(worker):
        # Then all 12 are sent and recorded within seconds: when every delivery holding a slot waits for its
        # outcome to be written, waiting longer gathers no outcome and leaves the sender idle, so the write goes
        await eventually(lambda: _all_delivered(offline_ctx, 12), "every delivery recorded", timeout=10)
    assert len(http.sent) == 12


async def test_worker__a_hanging_inbox_does_not_hold_the_other_deliveries_back(
    offline_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given outcomes written at most once a minute, 9 deliveries for a worker sending 4 at once, one inbox hanging
    monkeypatch.setattr(delivery, "FLUSH_EVERY_SECONDS", 60.0)
    inboxes = await _fan_out_to(offline_ctx, 9, concurrency=4)
    http = AnsweringHttp(hanging=frozenset(inboxes[:1]))
    worker = DeliveryWorker(offline_ctx, http=http)
    async with running(worker):
        # When it runs, the hanging inbox holding its slot all along
        # Then the 8 others are sent meanwhile: once half the slots wait for their outcomes, the write goes and
        # frees them (it waited for the minute, so only the first four were sent)
        await eventually(lambda: _sent_to(http, 9), "every inbox sent to", timeout=10)
        # And once the hanging one answers, every outcome is written (nothing else is sending: no more waiting)
        http.release.set()
        await eventually(lambda: _all_delivered(offline_ctx, 9), "every delivery recorded", timeout=10)
    assert sorted(http.sent) == sorted(inboxes)


async def _sent_to(http: AnsweringHttp, expected: int) -> bool:
    return len(http.sent) == expected


async def test_worker__keeps_nothing_per_host_once_a_fan_out_has_ended(
    offline_ctx: Context, remotes: list[RemoteInstance], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given followers on 10 hosts, and followers' digests and parsed inbox URLs that are stale as soon as they are
    # made (what the worker kept and did not use for that long goes)
    monkeypatch.setattr(followers_sync, "DIGEST_SECONDS", 0.0)
    monkeypatch.setattr(http, "TARGETS_KEPT_SECONDS", 0.0)
    servers = [await start_remote(remotes, offline_ctx, f"127.0.0.{n + 1}") for n in range(10)]
    for number, remote in enumerate(servers):
        await add_follower(offline_ctx, remote, f"f{number}")
    await publish(offline_ctx)
    worker = DeliveryWorker(offline_ctx)
    # When its loop has delivered the post to every host and the queue is empty
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _all_delivered(offline_ctx, 10), "every delivery recorded")
        # Then every host got the post, and the worker lets go of what it kept per host: each host's followers
        # digest and header, each inbox's parsed URL (megabytes after a fan-out to 10,000 hosts)
        assert all(len(remote.received) == 1 for remote in servers)
        await eventually(lambda: _nothing_per_host(worker), "nothing kept per host")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def _nothing_per_host(worker: DeliveryWorker) -> bool:
    return len(worker.follower_digests) == 0 and len(worker.host_slots) == 0 and _urls_parsed(worker) == 0


def _urls_parsed(worker: DeliveryWorker) -> int:
    return get_http(worker.ctx).inbox_urls_parsed()


async def test_worker__keeps_the_parsed_inboxes_for_a_fan_out_that_follows_within_seconds(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    # Given followers on 10 hosts, and a worker whose loop delivered a post to all of them
    servers = [await start_remote(remotes, offline_ctx, f"127.0.0.{n + 1}") for n in range(10)]
    for number, remote in enumerate(servers):
        await add_follower(offline_ctx, remote, f"f{number}")
    await publish(offline_ctx)
    worker = DeliveryWorker(offline_ctx)
    idle_turns = 0
    forget_hosts = worker.forget_hosts

    def counted() -> None:
        nonlocal idle_turns
        idle_turns += 1
        forget_hosts()

    worker.forget_hosts = counted  # type: ignore[method-assign]
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _all_delivered(offline_ctx, 10), "every delivery recorded")
        # When the queue has run dry and the worker has had its idle turn
        turns = idle_turns
        await eventually(lambda: _more_than(lambda: idle_turns, turns), "an idle turn after the fan-out")
        # Then the inboxes' parsed URLs are still there for the next fan-out (made again per delivery, they cost
        # ~0.1 ms each), and the next post reaches every host
        assert _urls_parsed(worker) == 10
        await publish(offline_ctx, "More news")
        await eventually(lambda: _all_delivered(offline_ctx, 20), "the second fan-out recorded")
        assert all(len(remote.received) == 2 for remote in servers)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def _more_than(count: Callable[[], int], before: int) -> bool:
    return count() > before


async def test_worker__a_fan_out_reads_its_activity_once(offline_ctx: Context) -> None:
    # Given 12 deliveries of one post for a worker sending 4 at once (it claims 8 at a time)
    await _fan_out_to(offline_ctx, 12, concurrency=4)
    http = AnsweringHttp()
    worker = DeliveryWorker(offline_ctx, http=http)
    reads: list[str] = []
    get_body = worker.outbox.get_body

    async def counted(activity_id: str) -> str | None:
        reads.append(activity_id)
        return await get_body(activity_id)

    worker.outbox.get_body = counted  # type: ignore[method-assign]
    # When it delivers them all
    async with running(worker):
        await eventually(lambda: _all_delivered(offline_ctx, 12), "every delivery recorded", timeout=10)
    # Then every inbox got the Create, and the outbox was read once for all of them (not once per delivery started
    # before the first read came back)
    assert len(http.sent) == 12
    assert len(reads) == 1


async def test_worker__reads_the_stored_signature_styles_of_a_claims_hosts_at_once(
    offline_ctx: Context, remotes: list[RemoteInstance]
) -> None:
    # Given followers on 6 hosts, 2 of which took draft-cavage signatures from another process (stored), and a
    # worker that has not delivered anything yet (a fresh start)
    servers = [await start_remote(remotes, offline_ctx, f"127.0.0.{n + 1}") for n in range(6)]
    for number, remote in enumerate(servers):
        await add_follower(offline_ctx, remote, f"f{number}")
    for remote in servers[:2]:
        await SignatureStyleStore(offline_ctx.db).remember(f"{remote.host}:{remote.port}", "cavage")
    await publish(offline_ctx)
    statements: list[str] = []
    await offline_ctx.db.reader.set_trace_callback(statements.append)
    # When it delivers the post
    try:
        assert await DeliveryWorker(offline_ctx).run_once() == 6
    finally:
        await offline_ctx.db.reader.set_trace_callback(None)
    # Then the styles were read in one query (not one per delivery), and each host got one request signed in its
    # style: draft-cavage for the two, RFC 9421 for the others
    assert sum("host_signature_styles" in statement for statement in statements) == 1
    styles = [["Signature-Input" in r.headers for r in remote.received] for remote in servers]
    assert styles == [[False], [False], [True], [True], [True], [True]]
