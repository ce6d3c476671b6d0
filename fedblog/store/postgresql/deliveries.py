"""The delivery queue's hot statements on PostgreSQL, where each statement is a round trip to the server.

On SQLite a claim or a flush of outcomes is a dozen C calls on the database thread; here each was a trip, and each
row of an executemany an execution of its own on the server (a claim: its window, the other workers' leases, the
lock, the heartbeat, then one UPDATE per job; a flush: one UPDATE per outcome and one upsert per host). Here a claim
is one statement (the window, the per-host limit, the lock and the leases together), a flush of any number of
outcomes one statement (the jobs, their hosts and the heartbeat), and a fan-out's jobs one INSERT: the arrays of
values `unnest`ed. Each does what store/deliveries.py's statements do one row at a time.

Plain SQL and the functions of the raw connection that run it, called by store/deliveries.py (nothing here
imports it). A claim and a flush commit alone (Database.run_statement: one trip, no BEGIN or COMMIT), so each
statement sends the notification of its change itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fedblog.store.connection import SyncConnection
from fedblog.store.postgresql.channel import changes_notice

# Parameters: $1 now, $2 the oldest heartbeat still alive, $3 the window's size, $4 this worker ('' for none),
# $5 / $6 the hosts busy here and how many each, $7 per host, $8 limit, $9 the lease's end,
# $10…$15 this worker's row for its heartbeat (empty arrays: none), $16 / $17 the notification of the change
# (channel.changes_notice: the statement commits alone, Database.run_statement). Numbered: some are used more than once.
# Without a worker ('') other workers' leases are not counted, as store/deliveries' claim does.
#
# The window of due jobs is read unlocked (a job is free when it holds no lease, its lease ran out, or the worker
# holding it has no fresh heartbeat: store/deliveries._FREE); of it at most `per host` per host are chosen,
# counting what is in flight here and what other live workers hold; only the chosen rows are locked, passing over
# those another claim holds (SKIP LOCKED). A row another claim leased since this statement began is rechecked as it
# is now (FOR UPDATE under READ COMMITTED) and left out: its lease is fresh, or its holder is no longer the dead
# worker the window saw (a worker's first heartbeat commits with its first leases, after this statement's
# snapshot, so the holder's liveness alone cannot tell).
CLAIM = """
WITH alive AS (SELECT id FROM delivery_workers WHERE heartbeat_at > $2),
due AS (
    SELECT id, host, next_attempt_at, locked_by FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1
        AND (locked_until IS NULL OR locked_until <= $1
            OR (locked_by IS NOT NULL AND locked_by NOT IN (SELECT id FROM alive)))
    ORDER BY next_attempt_at, id LIMIT $3
),
taken AS (
    SELECT host, SUM(n)::bigint AS n FROM (
        SELECT b.host, b.n FROM unnest($5::text[], $6::bigint[]) AS b (host, n)
        UNION ALL
        SELECT host, COUNT(*) FROM deliveries
        WHERE $4 <> '' AND locked_by IS NOT NULL AND locked_by <> $4 AND status = 'pending' AND locked_until > $1
            AND locked_by IN (SELECT id FROM alive)
        GROUP BY host
    ) AS t GROUP BY host
),
ranked AS (
    SELECT d.id, d.next_attempt_at, d.locked_by,
        ROW_NUMBER() OVER (PARTITION BY d.host ORDER BY d.next_attempt_at, d.id) + COALESCE(t.n, 0) AS place
    FROM due d LEFT JOIN taken t ON t.host = d.host
),
chosen AS (SELECT id, locked_by FROM ranked WHERE place <= $7 ORDER BY next_attempt_at, id LIMIT $8),
locked AS (
    SELECT d.id FROM deliveries d JOIN chosen c ON c.id = d.id
    WHERE d.status = 'pending' AND (d.locked_until IS NULL OR d.locked_until <= $1
        OR (d.locked_by = c.locked_by AND d.locked_by NOT IN (SELECT id FROM alive)))
    FOR UPDATE OF d SKIP LOCKED
),
beat AS (
    INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at, role)
    SELECT * FROM unnest($10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[])
    WHERE EXISTS (SELECT 1 FROM locked)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
),
notified AS (SELECT pg_notify($16, $17))
UPDATE deliveries d SET locked_until = $9, locked_by = NULLIF($4, '') FROM locked, notified WHERE d.id = locked.id
RETURNING d.id, d.activity_id, d.inbox, d.host, d.attempts, d.created_at, d.next_attempt_at
"""


def _beat(worker: Sequence[Any] | None, now: str) -> list[list[Any]]:
    """The heartbeat's arrays: the worker's row (id, machine, pid, started, heartbeat, role), or none."""
    if worker is None:
        return [[], [], [], [], [], []]
    worker_id, machine, pid, role = worker
    return [[worker_id], [machine], [pid], [now], [now], [role]]


def _claim_parameters(
    now: str,
    alive: str,
    window: int,
    worker: Sequence[Any] | None,
    busy: Mapping[str, int],
    per_host: int,
    limit: int,
    lock_until: str,
    notice: tuple[str, str],
) -> tuple[Any, ...]:
    """CLAIM's parameters; `worker`: (id, machine, pid, role) of the worker claiming, or None."""
    hosts = sorted(busy)
    beat = _beat(worker, now)
    return (
        now, alive, window, worker[0] if worker is not None else "", hosts, [busy[host] for host in hosts],
        per_host, limit, lock_until, *beat, *notice,
    )  # fmt: skip


def claim(
    raw: SyncConnection,
    now: str,
    alive: str,
    window: int,
    worker: Sequence[Any] | None,
    busy: Mapping[str, int],
    per_host: int,
    limit: int,
    lock_until: str,
) -> list[Any]:
    """The jobs claimed: (id, activity id, inbox, host, attempts, created at, next attempt), in no order."""
    params = _claim_parameters(now, alive, window, worker, busy, per_host, limit, lock_until, changes_notice(raw))
    return raw.execute(CLAIM, params).fetchall()


# The outcomes of a flush (store/deliveries._SAVE_RESULT for each), the hosts that answered (_HOST_SUCCEEDED for
# each, in one order so that two workers' flushes lock them in the same order), the heartbeat (empty arrays:
# none) and the notification of the change (it may commit alone). The statement's own rows changed are the jobs'.
SAVE_OUTCOMES = """
WITH healthy AS (
    INSERT INTO hosts (host, consecutive_failures, last_success_at)
    SELECT h.host, 0, ? FROM unnest(?::text[]) AS h (host)
    ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, paused_until = NULL,
        last_success_at = excluded.last_success_at
),
beat AS (
    INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at, role)
    SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[])
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
),
notified AS (SELECT pg_notify(?, ?))
UPDATE deliveries d SET status = r.status, attempts = r.attempts,
    next_attempt_at = COALESCE(r.next_attempt_at, d.next_attempt_at), locked_until = NULL, locked_by = NULL,
    last_error = r.error, delivered_at = CASE WHEN r.status = 'delivered' THEN ? END
FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[])
    AS r (id, status, attempts, next_attempt_at, error), notified
WHERE d.id = r.id
"""


def _outcome_parameters(
    now: str,
    results: Iterable[tuple[int, str, int, str | None, str | None]],
    healthy_hosts: Iterable[str],
    worker: Sequence[Any] | None,
    notice: tuple[str, str],
) -> tuple[Any, ...]:
    """SAVE_OUTCOMES' parameters; `results`: (job id, status, attempts, next attempt or None, error or None), the
    last one of a job counting (as when each is written in turn); `worker`: (id, machine, pid, role) or None."""
    last = {result[0]: result for result in results}
    rows = list(last.values())
    beat = _beat(worker, now)
    return (
        now, sorted(set(healthy_hosts)), *beat, *notice, now,
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows],
    )  # fmt: skip


def save_outcomes(
    raw: SyncConnection,
    now: str,
    results: Iterable[tuple[int, str, int, str | None, str | None]],
    healthy_hosts: Iterable[str],
    worker: Sequence[Any] | None,
) -> None:
    raw.execute(SAVE_OUTCOMES, _outcome_parameters(now, results, healthy_hosts, worker, changes_notice(raw)))


# A fan-out's jobs (store/deliveries.insert_jobs for each target, in their order): a paused host's wait for the
# end of its pause.
INSERT_JOBS = """
INSERT INTO deliveries (activity_id, inbox, host, status, attempts, next_attempt_at, created_at)
SELECT ?, t.inbox, t.host, 'pending', 0, COALESCE(h.paused_until, ?), ?
FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS t (inbox, host, n)
LEFT JOIN hosts h ON h.host = t.host AND h.paused_until > ?
ORDER BY t.n
ON CONFLICT DO NOTHING
"""


def job_parameters(activity_id: str, targets: Iterable[tuple[str, str]], now: str) -> tuple[Any, ...]:
    pairs = list(targets)
    return (activity_id, now, now, [inbox for inbox, _ in pairs], [host for _, host in pairs], now)
