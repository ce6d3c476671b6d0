"""The inbox: check, verify, record by id, process through the dispatch table, answer 202.

Order of checks (cheapest and least revealing first): content type → JSON → signed at all → blocked source →
HTTP signature → the activity's shape (id, type, actor) → signer is the actor → ids on the actor's origin → the
actor's integrity proof, when it carries one (FEP-8b32) → a duplicate (id, signer) stops here → any handled type
but Create is claimed (recorded under a lease: of two processes receiving it at once, one processes it) → process
(in a task: the answer waits for it at most INLINE_SECONDS, then processing goes on after the answer). Nothing is
stored unless the signature (and the proof, if any) verified.

No activity is lost: 202 is sent only once the activity is recorded. Processing that finishes in time records
the activity with its final status in the same commit as its effects (one commit per reply, instead of record,
effects, status); processing that takes longer has the activity recorded `received` before the answer. Rows
still `received` (a crash mid-processing) are processed again at start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fedblog.clock import utcnow
from fedblog.protocol.activitystreams import first_id
from fedblog.protocol.addresses import host_of
from fedblog.protocol.httpsig import SignatureError, key_id_of
from fedblog.protocol.jsonsafe import UnsafeJSON, parse_json_object
from fedblog.protocol.origins import foreign_id_problem
from fedblog.services.delivery_workers import alive_since, gone_workers, process_is_running
from fedblog.services.http import FetchError
from fedblog.services.inbox_dispatch import HANDLED_TYPES, find_handler
from fedblog.services.inbox_leases import InboxLeases, inbox_leases
from fedblog.services.inbox_limits import SLOT_RETRY_AFTER, inbox_limits, is_trusted_host
from fedblog.services.incoming import IncomingActivity
from fedblog.services.integrity import check_proofs
from fedblog.services.remote import RemoteActors
from fedblog.services.verification import Rejected, pair_digest, verify_inbound
from fedblog.store.db import StorageUnavailable
from fedblog.store.deliveries import INBOX, DeliveryStore
from fedblog.store.followers import ACCEPTED, FollowerStore
from fedblog.store.inbox import FAILED, IGNORED, PROCESSED, RECEIVED, InboxRecord, InboxStore, Lease
from fedblog.store.inbox import preflight as inbox_preflight
from fedblog.store.read_batch import ReadBatch

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SEEN_MAX_ENTRIES = 20_000
# The inbox answers 202 within this time even when processing (fetching a thread…) takes longer.
INLINE_SECONDS = 3.0
LEFTOVERS_EVERY_SECONDS = 5.0
AS2_MEDIA_TYPES = ("application/activity+json", "application/ld+json", "application/json")
# Activity types accepted when signed by another server than the actor's (forwarding); see receive().
FORWARDABLE_TYPES = frozenset({"Create", "Update", "Delete"})


@dataclass(frozen=True)
class InboxAnswer:
    status: int
    payload: dict[str, Any] | None = field(default=None)
    retry_after: int | None = None
    activity_type: str = ""  # the body's `type` when it was a JSON object with a string one (for the metrics)

    @classmethod
    def error(cls, status: int, reason: str) -> InboxAnswer:
        return cls(status, {"error": reason})


def is_activity_content_type(content_type: str) -> bool:
    """activity+json or ld+json (any parameters, profile or not); application/json tolerated."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in AS2_MEDIA_TYPES


async def receive(
    ctx: Context, *, path_qs: str, headers: Mapping[str, str], body: bytes, content_type: str
) -> InboxAnswer:
    if len(body) > MAX_BODY_BYTES:
        return InboxAnswer.error(413, "body larger than 1 MiB")
    if not is_activity_content_type(content_type):
        return InboxAnswer.error(415, "expected Content-Type application/activity+json")
    try:
        activity = parse_json_object(body, max_bytes=MAX_BODY_BYTES)
    except UnsafeJSON as error:
        return InboxAnswer.error(400, str(error) or "body is not a JSON object")
    answer = await _receive_activity(ctx, activity, path_qs=path_qs, headers=headers, body=body)
    kind = activity.get("type")
    return replace(answer, activity_type=kind) if isinstance(kind, str) else answer


async def _receive_activity(
    ctx: Context, activity: dict[str, Any], *, path_qs: str, headers: Mapping[str, str], body: bytes
) -> InboxAnswer:
    activity_id, kind, actor_id = activity.get("id"), activity.get("type"), first_id(activity.get("actor"))
    # The signature is judged before the shape (Mastodon's order): without one, any body is a 401, so that a
    # 400 always means "signature accepted, activity refused".
    key_id = _key_id(headers)
    if not key_id:
        return InboxAnswer.error(401, "request is not signed")
    # One trip to the database for the three lookups, shared with concurrent requests (each trip costs a thread
    # wake-up): is the source blocked, is the signer's host one our deliveries are waiting for (the key's host is
    # its owner's, see remote.py), was this id recorded already.
    lookup_id = activity_id if isinstance(activity_id, str) else ""
    known = await inbox_preflight(read_batch(ctx), actor_id or "", key_id, host_of(key_id), lookup_id)
    if known.blocked:
        return InboxAnswer.error(403, "blocked")
    host = host_of(key_id)
    RemoteActors(ctx).align_key(key_id, known.key)  # another process may have retired or refetched it
    if await _is_known_sender(ctx, key_id, actor_id or "", host):
        verdict = await verify_inbound(ctx, method="POST", path_qs=path_qs, headers=headers, body=body, key_id=key_id)
    else:
        # Verifying costs a fetch of the sender's actor: limited per host, per key, per post for reactions.
        limits = inbox_limits(ctx)
        wait = await limits.admit_unknown(host, key_id, kind, first_id(activity.get("object")))
        if wait:
            return _too_many(wait)
        async with limits.fetch_slot(host) as got_slot:
            if not got_slot:
                return _too_many(SLOT_RETRY_AFTER)
            verdict = await verify_inbound(
                ctx, method="POST", path_qs=path_qs, headers=headers, body=body, key_id=key_id
            )
    if isinstance(verdict, Rejected):
        if verdict.key_gone and kind == "Delete" and actor_id and first_id(activity.get("object")) == actor_id:
            return InboxAnswer(202)  # a deleted account announcing itself: its key is gone too; nothing to do
        return InboxAnswer.error(verdict.status, verdict.reason)
    if not isinstance(activity_id, str) or not isinstance(kind, str) or not actor_id:
        return InboxAnswer.error(400, "an activity needs string id, type and actor")
    if verdict.actor_id != actor_id and kind not in FORWARDABLE_TYPES:
        return InboxAnswer.error(401, "the signature's key does not belong to the activity's actor")
    foreign = foreign_id_problem(activity)
    if foreign:
        return InboxAnswer.error(400, foreign)
    # A forwarded Create/Update/Delete (Mastodon forwards replies in a thread, signed by the forwarder) goes on:
    # its handlers see signer ≠ actor, trust nothing embedded and refetch the object from its origin.
    if verdict.replayed:
        return InboxAnswer(202)
    if verdict.actor_id == actor_id and "proof" in activity:
        # Sent by its actor with an integrity proof (FEP-8b32): the proof goes before the HTTP signature, so one
        # that does not hold refuses the activity. A forwarded one is judged by its handler (refetched if so).
        proofs = await check_proofs(ctx, activity, actor_id)
        if proofs.broken:
            return InboxAnswer.error(401, f"the activity's integrity proof does not hold: {proofs.broken}")
    if host_of(verdict.actor_id) != host_of(key_id):
        await note_contact(ctx, verdict.actor_id)
    elif known.troubled:
        await _resume_host(ctx, host_of(key_id))
    # Duplicates are judged by (id, signer): what another server sent under this id never hides the real one.
    seen = ctx.runtime.inbox_seen
    seen_key = pair_digest(activity_id.encode(), verdict.actor_id.encode())
    if verdict.actor_id in known.signers or seen_key in seen:
        return InboxAnswer(202)  # a duplicate: processed once only
    _remember(seen, seen_key)  # no await between the check and this: a concurrent duplicate sees it
    record = InboxRecord(
        activity_id,
        actor_id,
        verdict.actor_id,
        kind,
        first_id(activity.get("object")),
        body.decode("utf-8", "replace"),
    )
    leases = inbox_leases(ctx)
    if kind != "Create" and kind in HANDLED_TYPES and not await _claim(ctx, leases, record, seen, seen_key):
        return InboxAnswer(202)  # another process (or request) recorded it first: it processes it
    # Quick handlers finish before the answer (a peer sees their effect at once); slow ones go on after it.
    task = schedule(ctx, activity, verdict.actor_id, record)
    if record.claimed:
        _hold_until_done(leases, task)
    await asyncio.wait({task}, timeout=INLINE_SECONDS)
    if not record.claimed and (not task.done() or task.cancelled() or task.exception() is not None):
        # Not recorded yet (still running, or its final write failed): record it now, before the answer, with a
        # lease of this process (held, and the process's heartbeat kept, until the task ends).
        try:
            await leases.take(lambda lease: _record_leased(ctx, record, lease))
        except BaseException:
            seen.pop(seen_key, None)  # not recorded: the sender's retry must be processed
            raise
        _hold_until_done(leases, task)
    return InboxAnswer(202)


async def _record_leased(ctx: Context, record: InboxRecord, lease: Lease) -> None:
    async with ctx.db.transaction() as conn:
        await InboxStore(ctx.db).record(
            conn, record.activity_id, record.actor_id, record.kind, record.object_id, record.body,
            signer_id=record.signer_id, lease=lease,
        )  # fmt: skip


def _hold_until_done(leases: InboxLeases, task: asyncio.Task[str]) -> None:
    leases.hold()
    task.add_done_callback(lambda _: leases.release())


async def _claim(
    ctx: Context,
    leases: InboxLeases,
    record: InboxRecord,
    seen: dict[bytes, None],
    seen_key: bytes,
) -> bool:
    """Record the activity under this process's lease before processing it; False when it was recorded already.

    The seen ids are this process's only: another process receiving the same activity at the same instant (a
    Follow answered twice) passes the same checks, so any handled activity but a Create is claimed in the database
    first and processed only by the process whose claim won. A Create needs no claim: its comment is stored once
    (the Note's id is unique), with the inbox record in the same commit; an activity no handler runs has no
    effect to double."""
    try:
        won = await leases.take(lambda lease: InboxStore(ctx.db).claim(record, lease))
    except BaseException:
        seen.pop(seen_key, None)  # not recorded: the sender's retry must be processed
        raise
    record.claimed = won
    return won


async def _is_known_sender(ctx: Context, key_id: str, actor_id: str, host: str) -> bool:
    """Known senders keep their speed: a fresh cached key (no fetch needed), a trusted host, an accepted follower."""
    if await RemoteActors(ctx).has_fresh_key(key_id) or is_trusted_host(ctx, host):
        return True
    follower = await FollowerStore(ctx.db).get(actor_id) if actor_id else None
    return follower is not None and follower.status == ACCEPTED


def _too_many(retry_after: int) -> InboxAnswer:
    return InboxAnswer(429, {"error": "too many requests from senders not known here yet"}, retry_after=retry_after)


def read_batch(ctx: Context) -> ReadBatch:
    batch = ctx.runtime.inbox_reads
    if batch is None or batch.db is not ctx.db:
        batch = ctx.runtime.inbox_reads = ReadBatch(ctx.db)
    return batch


def _remember(seen: dict[bytes, None], seen_key: bytes) -> None:
    """(id, signer) pairs taken for processing (16-byte digests, see pair_digest), kept well after they are
    recorded: between the lookup by id (before the signature check) and here, a duplicate may have been processed
    and recorded; it is still here."""
    seen[seen_key] = None
    while len(seen) > SEEN_MAX_ENTRIES:
        del seen[next(iter(seen))]


def _key_id(headers: Mapping[str, str]) -> str:
    try:
        return key_id_of(headers)
    except SignatureError:
        return ""  # unsigned: verification answers 401 next


async def note_contact(ctx: Context, actor_id: str) -> None:
    """A verified request from a host proves it is alive: end its pause and retry its deliveries now."""
    host = host_of(actor_id)
    if await DeliveryStore(ctx.db).host_is_troubled(host):
        await _resume_host(ctx, host)


async def _resume_host(ctx: Context, host: str) -> None:
    async with ctx.db.transaction() as conn:
        await DeliveryStore(ctx.db).resume_host(conn, host, utcnow())


def schedule(ctx: Context, activity: dict[str, Any], signer_id: str, record: InboxRecord) -> asyncio.Task[str]:
    """Process in a task of its own, kept (and awaited on close) so none is lost silently."""
    tasks = ctx.runtime.inbox_tasks
    ctx.runtime.heap.note()
    task = asyncio.create_task(process(ctx, activity, signer_id, record))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    task.add_done_callback(_retrieve_storage_failure)
    return task


def _retrieve_storage_failure(task: asyncio.Task[str]) -> None:
    """A refused write ends the task (logged once by process()); mark it seen so no traceback follows at exit."""
    if not task.cancelled() and isinstance(task.exception(), StorageUnavailable):
        return


async def process(ctx: Context, activity: dict[str, Any], signer_id: str, record: InboxRecord | None = None) -> str:
    """Run the activity's handler; record processed / ignored (no handler) / failed. Returns the status.

    `record`: the activity is not recorded yet; it is written with its status (by the handler's own commit
    when the handler supports it, see IncomingActivity.record). None: already recorded, its status is updated.
    """
    incoming = IncomingActivity(
        id=activity["id"],
        type=activity["type"],
        actor_id=first_id(activity.get("actor")) or "",
        object=activity.get("object"),
        raw=activity,
        signer_id=signer_id,
        record=record,
    )
    handler = find_handler(incoming)
    status, error = PROCESSED, ""
    if handler is None:
        status = IGNORED
    else:
        try:
            await handler(ctx, incoming)
        except asyncio.CancelledError:
            raise  # stays `received` under its lease: taken over once it runs out, or at the next start
        except StorageUnavailable as exc:
            # Nothing of it was committed: the sender gets a 503 (if it still waits) and retries, or the record
            # left `received` is taken over once its lease runs out (or at the next start).
            log.warning("activity %r not processed: %s", incoming.id, exc)
            raise
        except Exception as exc:
            if isinstance(exc, FetchError):
                log.info("activity %r: fetch failed (%s); will retry at next start", incoming.id, exc)
                status = RECEIVED
            else:
                log.exception("activity %r (%s) failed", incoming.id, incoming.type)
                status, error = FAILED, f"{type(exc).__name__}: {exc}"
    store = InboxStore(ctx.db)
    if record is None:
        if status != RECEIVED:
            async with ctx.db.transaction() as conn:
                await store.set_status(conn, incoming.id, signer_id, status, error)
        else:
            await store.release(incoming.id, signer_id)  # a fetch to retry: at the next start, not at each sweep
    elif not (record.settled and status == PROCESSED):
        await store.settle(record, status, error)
    return status


async def process_unprocessed(ctx: Context, *, at_start: bool = True, now: datetime | None = None) -> int:
    """Finish what was recorded but not processed (at-least-once), none that a live process is working on: at
    start, what a previous run left too (no lease); every few seconds (keep_processing_leftovers), what a process
    leased and left: its heartbeat stopped (killed or stalled, on any machine), or it ran on this machine and has
    ended, or its lease ran out. Returns how many it took."""
    store = InboxStore(ctx.db)
    leases = inbox_leases(ctx)
    now = now or utcnow()
    me = leases.worker
    holders = [worker for worker in await DeliveryStore(ctx.db).workers_on(me.machine) if worker.role == INBOX]
    gone = gone_workers(holders, me, process_is_running)
    alive = alive_since(now, ctx.settings.federation.heartbeat_stale_seconds)
    rows = await leases.take(lambda lease: store.claim_unprocessed(now, lease, alive, gone, unleased=at_start), now)
    leases.hold(len(rows))
    try:
        for row in rows:
            try:
                activity = json.loads(row["body"])
            except ValueError:
                continue
            await process(ctx, activity, row["signer_id"])
    finally:
        leases.release(len(rows))
    return len(rows)


async def keep_processing_leftovers(ctx: Context) -> None:
    """Runs until cancelled: takes over, every few seconds, what another process leased and left (see above).
    A failure ends it; its supervisor (keep_running) logs it in one line or with its traceback and restarts it."""
    while True:
        await asyncio.sleep(LEFTOVERS_EVERY_SECONDS)
        taken = await process_unprocessed(ctx, at_start=False)
        if taken:
            log.info("took over %d inbox activities another process had left unprocessed", taken)


async def wait_for_processing(ctx: Context) -> None:
    """Let in-flight processing finish (on close, and in tests)."""
    tasks = ctx.runtime.inbox_tasks
    while tasks:
        await asyncio.gather(*list(tasks), return_exceptions=True)
    if ctx.runtime.inbox_leases is not None:
        await ctx.runtime.inbox_leases.close()
