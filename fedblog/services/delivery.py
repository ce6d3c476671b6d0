"""Outbound delivery: a durable queue in SQLite and the worker that drains it (its retry policy:
services/delivery_policy.py).

`enqueue` runs inside the caller's transaction (a post change, a follow answer, a comment), so a change and
its deliveries commit together. The worker claims due jobs with a lease (`locked_until`, `locked_by` its worker
id, kept alive by a heartbeat): a crash or a restart loses nothing, re-sends at most the jobs that were in flight,
and the restarted process takes over the dead one's leases at once. Concurrency is bounded overall and per host.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fedblog.clock import utcnow
from fedblog.protocol.activitystreams import first_id, is_public
from fedblog.protocol.addresses import host_of
from fedblog.services.delivery_policy import counts_as_host_failure, decide, pause_for
from fedblog.services.delivery_workers import (
    HEARTBEAT_EVERY,
    alive_since,
    gone_workers,
    new_worker,
    process_is_running,
)
from fedblog.services.followers_sync import FollowerDigests
from fedblog.services.http import DeliveryClient, FetchError, get_http
from fedblog.services.integrity import with_proof
from fedblog.services.wakeups import DELIVERIES, wake_after_commit
from fedblog.store.db import Connection
from fedblog.store.deliveries import DeliveryStore, HostStatus, Job, Result
from fedblog.store.followers import FollowerStore
from fedblog.store.outbox import OutboxStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

# Deliveries that begin in one turn of the event loop (StartPacer): the web requests served by the same process
# get a turn between every few signatures.
STARTS_PER_TURN = 4
LOCK_DURATION = timedelta(minutes=5)
POLL_SECONDS = 2.0
# Outcomes are written at most this often: during a fan-out the outcomes of the deliveries finished meanwhile share
# one write (a commit, and a retirement of every cached page), instead of one write per delivery or two. A write
# goes at once when waiting would only hold slots (see DeliveryWorker._flush_is_due).
FLUSH_EVERY_SECONDS = 0.01


# --- enqueueing ----------------------------------------------------------------------------------------


def new_activity_id(ctx: Context, kind: str) -> str:
    return ctx.urls.activity(kind, uuid.uuid4().hex)


async def follower_inboxes(ctx: Context, conn: Connection | None = None) -> list[str]:
    """Where to send a public activity: each accepted follower's shared inbox, or its own; each once."""
    return await FollowerStore(ctx.db).delivery_inboxes(conn)


async def enqueue(ctx: Context, conn: Connection, activity: dict[str, Any], inboxes: Iterable[str]) -> None:
    """Store the activity in the outbox and one delivery job per distinct remote inbox, in the caller's
    transaction; the worker is woken and sends them once the transaction commits."""
    now = utcnow()
    activity = with_proof(ctx, activity, now)  # FEP-8b32: the same signed body to every inbox, and at its id
    activity_id = activity["id"]
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    public = is_public(activity.get("to"), activity.get("cc"))
    await OutboxStore(ctx.db).insert(
        conn, activity_id, str(activity.get("type")), first_id(activity.get("object")), body, public, now
    )
    targets: dict[str, str] = {}
    for inbox in inboxes:
        if urlsplit(inbox).scheme in ("http", "https") and host_of(inbox) and not ctx.urls.is_local(inbox):
            targets.setdefault(inbox, host_of(inbox))
    if targets:
        await DeliveryStore(ctx.db).insert_jobs(conn, activity_id, targets.items(), now)
        wake_worker(ctx)


def wakeup_event(ctx: Context) -> asyncio.Event:
    return ctx.runtime.delivery_wakeup


def wake_worker(ctx: Context) -> None:
    """Once the caller's transaction has committed: this process's worker, or the workers of other processes (the
    server's, when the CLI queued)."""
    wake_after_commit(ctx, DELIVERIES)


async def queue_report(ctx: Context) -> tuple[dict[str, int], list[HostStatus]]:
    """Counts by state (pending, retrying, failed, delivered) and the state of each host, for the CLI and admin."""
    store = DeliveryStore(ctx.db)
    return await store.counts(), await store.status_by_host()


# --- the worker ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    job: Job
    status: int | None
    retry_after: float | None
    error: str | None


class HostSlots:
    """At most `per_host` deliveries at once to each host. A host's entry lives only while deliveries to it are
    running or waiting: a worker that delivered to 10,000 hosts over its life holds none of them afterwards."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}  # host → (its slots, deliveries using them)

    @contextlib.asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        slots, users = self._hosts.get(host) or (asyncio.Semaphore(self.per_host), 0)
        self._hosts[host] = (slots, users + 1)
        try:
            async with slots:
                yield
        finally:
            slots, users = self._hosts[host]
            if users == 1:
                del self._hosts[host]
            else:
                self._hosts[host] = (slots, users - 1)

    def __len__(self) -> int:
        return len(self._hosts)


class StartPacer:
    """At most `per_turn` deliveries begin (sign, then open their connection) in one turn of the event loop, first
    come first served: signing is a millisecond of CPU each, and a claimed batch starting at once held the loop for
    tens of milliseconds, while the pages, the Note and the actor waited. The others start in the next turns."""

    def __init__(self, per_turn: int) -> None:
        self.per_turn = per_turn
        self._used = 0  # starts in the current turn
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._turn_ends = False  # the call that opens the next turn is scheduled

    async def turn(self) -> None:
        if self._used < self.per_turn and not self._waiting:
            self._used += 1
            self._end_turn_soon()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._end_turn_soon()
        await waiter  # cancelled: _next_turn passes over it

    def _end_turn_soon(self) -> None:
        if not self._turn_ends:
            self._turn_ends = True
            asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._turn_ends = False
        self._used = 0
        while self._waiting and self._used < self.per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._used += 1
        if self._used or self._waiting:
            self._end_turn_soon()


class DeliveryWorker:
    """Drains the queue. `run()` is the long-lived loop inside `fedblog serve`; `run_once()` does one pass
    (tests, tools). The clock is injectable so tests can move time forward past backoffs and locks."""

    def __init__(
        self, ctx: Context, clock: Callable[[], datetime] = utcnow, http: DeliveryClient | None = None
    ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.store = DeliveryStore(ctx.db)
        self.outbox = OutboxStore(ctx.db)
        settings = ctx.settings.federation
        self.concurrency = settings.delivery_concurrency
        self.per_host = settings.delivery_per_host
        self.stale_seconds = settings.heartbeat_stale_seconds  # a worker silent this long is gone
        self._http = http
        self._slots = asyncio.Semaphore(self.concurrency)
        self.host_slots = HostSlots(self.per_host)
        self._pacer = StartPacer(STARTS_PER_TURN)
        self._in_flight: dict[int, str] = {}  # job id → host
        self._done: list[Attempt] = []
        self._bodies: dict[str, bytes] = {}
        self._body_reads: dict[str, asyncio.Future[bytes | None]] = {}  # bodies being read, by activity id
        self.follower_digests = FollowerDigests(ctx)  # FEP-8fcf: the receiving host's followers digest
        self.worker = new_worker(clock())  # the name on this worker's leases
        self._last_beat = 0.0  # time.monotonic() of the last heartbeat written
        self._flush_lock = asyncio.Lock()
        self._flushed_at = float("-inf")  # time.monotonic() when the last write of outcomes ended
        self._sending = 0  # deliveries holding a send slot whose outcome is not known yet
        self._flush_wait: asyncio.Future[None] | None = None  # the flush waiting out FLUSH_EVERY_SECONDS
        self.flushes = 0
        self._tasks: set[asyncio.Task[None]] = set()  # the deliveries of run(), claimed and not finished
        self._hosts_used = False  # something was kept per host since the queue last ran dry (forget_hosts)
        self._draining = False  # stopping: claim nothing more, start no send (see drain)

    async def _claim(self, limit: int, per_host: int, busy: Counter[str] | None = None) -> list[Job]:
        if limit <= 0:
            return []
        now = self.clock()
        alive = alive_since(now, self.stale_seconds)
        jobs = await self.store.claim_due(
            now, now + LOCK_DURATION, limit, per_host, busy, worker=self.worker, alive_since=alive
        )
        if jobs:
            self._last_beat = time.monotonic()
        return jobs

    async def _heartbeat_if_due(self) -> None:
        """While it holds leases (a slow host can keep a delivery for its whole timeout), say it is alive."""
        if self._in_flight and time.monotonic() - self._last_beat >= HEARTBEAT_EVERY.total_seconds():
            self._last_beat = time.monotonic()
            async with self.ctx.db.transaction() as conn:
                await self.store.heartbeat(conn, self.worker, self.clock())

    async def forget_gone_workers(self) -> list[str]:
        """Free at once the leases of workers of this machine whose process has ended (a crash, a kill -9)."""
        gone = gone_workers(await self.store.workers_on(self.worker.machine), self.worker, process_is_running)
        await self.store.forget_workers(gone, silent_since=alive_since(self.clock(), self.stale_seconds))
        if gone:
            log.info("freed the deliveries leased by %d stopped worker(s)", len(gone))
        return gone

    @property
    def deliveries_in_flight(self) -> int:
        """Deliveries claimed and not finished (holding, or waiting for, a slot)."""
        return len(self._in_flight)

    @property
    def http(self) -> DeliveryClient:
        if self._http is None:
            self._http = get_http(self.ctx)
        return self._http

    async def run_once(self, limit: int = 10_000) -> int:
        """Claim every due job (up to limit), deliver them, record the outcomes; return how many were tried."""
        jobs = await self._claim(limit, limit)
        await self._prepare(jobs)
        await asyncio.gather(*(self._attempt(job) for job in jobs))
        await self.flush()
        return len(jobs)

    def _refill_due(self) -> bool:
        """Claim again once no more than `concurrency` claimed deliveries are left (sending or waiting for a slot):
        with more, every send slot is busy, and a claim of the place the last send freed cost a claim (a write
        transaction) per delivery or two; now a claim takes `concurrency` jobs or more at once."""
        return len(self._tasks) <= self.concurrency

    async def run(self) -> None:
        """Deliver forever: keep up to twice the concurrency claimed, record outcomes as they come."""
        wakeup = wakeup_event(self.ctx)
        tasks = self._tasks
        progress = asyncio.Event()

        def finished(_task: asyncio.Task[None]) -> None:  # the loop wakes when a batch can be claimed, not each time
            if self._refill_due():
                progress.set()

        await self.forget_gone_workers()
        try:
            while True:
                wakeup.clear()
                progress.clear()
                try:
                    if not tasks:  # (the deliveries in flight write their own outcomes)
                        await self.flush()
                    await self._heartbeat_if_due()
                    free = 0 if self._draining or not self._refill_due() else 2 * self.concurrency - len(tasks)
                    claimed_jobs = await self._claim(free, self.per_host, Counter(self._in_flight.values()))
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the database refused a write (disk full…): outcomes stay in memory
                    log.warning("the delivery queue cannot be written (%s); trying again soon", error)
                    claimed_jobs = []
                if not tasks and not claimed_jobs:
                    self.forget_hosts()
                await self._prepare(claimed_jobs)
                for job in (job for job in claimed_jobs if job.id not in self._in_flight):
                    self._in_flight[job.id] = job.host
                    task = asyncio.create_task(self._attempt(job))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    task.add_done_callback(finished)
                # Wait for room for a batch, new work, or the poll (jobs enqueued by the CLI).
                waiters = [asyncio.create_task(wakeup.wait()), asyncio.create_task(progress.wait())]
                try:
                    await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Outcomes already known are worth keeping; the jobs not finished are free for the next worker at once.
            await self.flush()
            await self.store.release_worker(self.worker.id)

    async def _prepare(self, jobs: list[Job]) -> None:
        """What the claimed deliveries need to know of their hosts, read for all of them at once."""
        if jobs and not self._draining:
            try:
                await self.http.prepare_hosts({job.host for job in jobs})
            except asyncio.CancelledError:
                raise
            except Exception as error:  # each delivery asks for itself
                log.warning("preparing deliveries to %d host(s) failed: %s", len(jobs), type(error).__name__)

    def forget_hosts(self) -> None:
        """Nothing left to send: what the fan-outs kept per host and not used lately (each host's followers digest,
        each inbox's parsed URL) is let go: after a fan-out to 10,000 hosts it stayed until the next one, megabytes.
        Called on every idle turn, so that what was kept goes in time."""
        self.follower_digests.forget()  # stale digests only
        if self._hosts_used:
            self._hosts_used = False
            self._bodies.clear()
        if self._http is not None:  # (none made yet: nothing kept)
            self._http.forget_hosts()

    async def drain(self, grace: float) -> int:
        """Before a graceful stop: claim nothing more, start no new send, and wait up to `grace` seconds for the
        sends under way to be answered and recorded. Returns how many were still unfinished (run()'s end then
        cancels them and frees their leases: they are sent again, by the next worker)."""
        self._draining = True
        wakeup_event(self.ctx).set()
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace)
        return len(pending)

    async def _body(self, activity_id: str) -> bytes | None:
        """The activity's body, read once for all its deliveries: a claim starts 64 of them at once, and each read it
        (64 reads and 64 copies of the same bytes at every fan-out's start)."""
        body = self._bodies.get(activity_id)
        if body is not None:
            return body
        reading = self._body_reads.get(activity_id)
        if reading is None:
            reading = self._body_reads[activity_id] = asyncio.ensure_future(self._read_body(activity_id))
            reading.add_done_callback(lambda _done: self._body_reads.pop(activity_id, None))
        return await asyncio.shield(reading)  # one delivery cancelled leaves the read to the others

    async def _read_body(self, activity_id: str) -> bytes | None:
        text = await self.outbox.get_body(activity_id)
        if text is None:
            return None
        if len(self._bodies) > 256:
            self._bodies.clear()
        body = self._bodies[activity_id] = text.encode()
        return body

    async def _attempt(self, job: Job) -> None:
        try:
            body = await self._body(job.activity_id)
            if body is None:  # withdrawn (its object was deleted): nothing to send
                return
            self._hosts_used = True
            async with self.host_slots.turn(job.host), self._slots:  # host first: a busy host holds no global slot
                self._sending += 1
                try:
                    await self._pacer.turn()
                    if self._draining:  # stopping: left leased, freed for the next worker when run() ends
                        return
                    attempt = await self._send(job, body)  # (not inside append(): flush swaps the list meanwhile)
                    self._done.append(attempt)
                finally:
                    self._sending -= 1
                    self._hurry_flush()
                # The slot is free only once the outcome is recorded: whatever the moment of a crash, at most
                # `concurrency` deliveries were sent and not recorded, so at most that many are sent twice.
                await self._record_outcomes()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the outbox could not be read: retry later, never lose the job
            log.warning("delivery of %r to %r failed: %s", job.activity_id, job.inbox, type(error).__name__)
            self._done.append(Attempt(job, None, None, f"{type(error).__name__}"))
        finally:
            self._in_flight.pop(job.id, None)
            self.ctx.runtime.heap.note()

    async def _send(self, job: Job, body: bytes) -> Attempt:
        try:
            synchronization = await self.follower_digests.headers_for(job.host, body)
            result = await self.http.post_activity(job.inbox, body, synchronization)
        except FetchError as error:
            if self.ctx.runtime.metrics is not None:
                self.ctx.runtime.metrics.delivery_attempted(error.status)
            return Attempt(job, error.status, error.retry_after, str(error) or "network error")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an unexpected client error: retry later, never lose the job
            log.exception("delivery of %r to %r failed", job.activity_id, job.inbox)
            return Attempt(job, None, None, f"{type(error).__name__}")
        if self.ctx.runtime.metrics is not None:
            self.ctx.runtime.metrics.delivery_attempted(result.status)
        excerpt = None if 200 <= result.status < 300 else f"HTTP {result.status} {result.body_excerpt}"
        return Attempt(job, result.status, result.retry_after, excerpt)

    async def _record_outcomes(self) -> None:
        try:
            await self.flush()
        except Exception as error:  # the database refused the write (disk full…): the outcomes wait for the next one
            log.warning("recording delivery outcomes failed (%s); they are kept for the next try", error)

    async def flush(self) -> None:
        """Write every known outcome in one transaction: job states, host health, gone followers. When it returns,
        every outcome known when it was called is written (or, on an error, kept for the next flush)."""
        async with self._flush_lock:
            if not self._done:
                return
            wait = self._flushed_at + FLUSH_EVERY_SECONDS - time.monotonic()
            if wait > 0 and not self._flush_is_due():  # written a moment ago: what comes meanwhile shares this write
                await self._wait_for_flush(wait)
            self.flushes += 1
            done, self._done = self._done, []
            try:
                await self._write_outcomes(done)
            except BaseException:
                self._done[:0] = done
                raise
            finally:
                self._flushed_at = time.monotonic()

    def _flush_is_due(self) -> bool:
        """Waiting for more outcomes would only hold slots: every delivery holding one is waiting for its outcome
        to be written (nothing else is sending: the sender would sit idle), or half of them are (new deliveries
        wait for those slots, and the write takes many outcomes already)."""
        return self._sending == 0 or 2 * len(self._done) >= self.concurrency

    async def _wait_for_flush(self, seconds: float) -> None:
        """Until `seconds` have passed, or until _hurry_flush finds the write due."""
        loop = asyncio.get_running_loop()
        waiter = self._flush_wait = loop.create_future()
        timer = loop.call_later(seconds, _settle_waiter, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._flush_wait = None

    def _hurry_flush(self) -> None:
        if self._flush_wait is not None and self._flush_is_due():
            _settle_waiter(self._flush_wait)

    async def _write_outcomes(self, done: list[Attempt]) -> None:
        now = self.clock()
        results: list[Result] = []
        succeeded: set[str] = set()
        failed_hosts: set[str] = set()
        gone: set[str] = set()
        for attempt in done:
            job = attempt.job
            decision = decide(attempt.status, attempt.retry_after, job.attempts + 1, job.created_at, now)
            results.append(Result(job.id, decision.status, job.attempts + 1, decision.next_attempt_at, attempt.error))
            if decision.host_success:
                succeeded.add(job.host)
            if decision.host_failure:
                failed_hosts.add(job.host)
            if decision.gone:
                gone.add(job.inbox)
        beat_due = time.monotonic() - self._last_beat >= HEARTBEAT_EVERY.total_seconds()
        beat = self.worker if self._in_flight and beat_due else None  # leases still held: say it is alive
        if beat is not None:
            self._last_beat = time.monotonic()
        if not failed_hosts and not gone:  # the common case, in one trip (shared with other writers' commit)
            await self.store.save_outcomes(results, succeeded, now, beat)
            return
        followers = FollowerStore(self.ctx.db)
        async with self.ctx.db.transaction() as conn:
            await self.store.save_results(conn, results, now)
            if beat is not None:
                await self.store.heartbeat(conn, beat, now)
            await self.store.host_succeeded(conn, succeeded, now)
            for host in sorted(failed_hosts - succeeded):
                health = await self.store.host_health(conn, host)
                if not counts_as_host_failure(health.consecutive_failures, health.last_counted_failure_at, now):
                    continue  # the same attempt window as a failure already counted
                pause = pause_for(await self.store.host_failed(conn, host, now))
                if pause is not None:
                    await self.store.pause_host(conn, host, now + pause)
            for inbox in gone:
                removed = await followers.remove_by_inbox(conn, inbox)
                await self.store.fail_pending_for_inbox(conn, inbox, "inbox gone (404/410)")
                log.info("inbox %r is gone: dropped %d follower(s)", inbox, removed)


def _settle_waiter(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
