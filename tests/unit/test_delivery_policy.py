"""The pure retry policy of the delivery queue."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from fedblog.services.delivery_policy import GIVE_UP_AFTER, counts_as_host_failure, decide, next_delay, pause_for
from fedblog.services.delivery_workers import alive_since, gone_workers
from fedblog.store.deliveries import WorkerRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_next_delay__grows_then_stays_daily() -> None:
    delays = [next_delay(n) for n in range(1, 10)]
    assert delays[0] == timedelta(minutes=1)
    assert delays[1] == timedelta(minutes=5)
    assert all(a < b for a, b in itertools.pairwise(delays[:7]))
    assert delays[-1] == timedelta(days=1)


def test_decide__2xx_delivered() -> None:
    assert decide(202, None, 1, T0, T0).status == "delivered"


def test_decide__5xx_and_network_errors_retry_later() -> None:
    for status in (500, 502, 503, 401, 408, None):
        decision = decide(status, None, 1, T0, T0)
        assert decision.status == "pending", status
        assert decision.next_attempt_at == T0 + timedelta(minutes=1)
        assert decision.host_failure


def test_decide__retry_after_is_honoured() -> None:
    decision = decide(429, 3600, 1, T0, T0)
    assert decision.next_attempt_at == T0 + timedelta(hours=1)
    assert not decision.host_failure


def test_decide__gone_and_permanent_errors_stop() -> None:
    gone = decide(410, None, 1, T0, T0)
    assert gone.status == "failed" and gone.gone
    assert decide(404, None, 1, T0, T0).gone
    refused = decide(400, None, 1, T0, T0)
    assert refused.status == "failed" and not refused.gone and not refused.host_failure


def test_decide__gives_up_after_three_days() -> None:
    now = T0 + GIVE_UP_AFTER - timedelta(hours=1)
    assert decide(500, None, 8, T0, now).status == "failed"
    assert decide(500, None, 3, T0, T0 + timedelta(hours=1)).status == "pending"


def test_pause_for__only_after_repeated_failures() -> None:
    assert pause_for(4) is None
    assert pause_for(5) == timedelta(minutes=30)
    assert pause_for(6) == timedelta(hours=2)
    assert pause_for(50) == timedelta(days=1)


def test_counts_as_host_failure__once_per_attempt_window() -> None:
    # A host never failed (or recovered: count 0) counts at once
    assert counts_as_host_failure(0, None, T0)
    assert counts_as_host_failure(0, T0, T0)
    # The other inboxes failing in the same minute are the same attempt
    assert not counts_as_host_failure(1, T0, T0)
    assert not counts_as_host_failure(1, T0, T0 + timedelta(seconds=59))
    # The first retry (1 min later) failing is a second failure; then the window follows a job's schedule
    assert counts_as_host_failure(1, T0, T0 + timedelta(minutes=1))
    assert not counts_as_host_failure(2, T0, T0 + timedelta(minutes=4))
    assert counts_as_host_failure(2, T0, T0 + timedelta(minutes=5))
    assert not counts_as_host_failure(4, T0, T0 + timedelta(hours=1))


def test_counts_as_host_failure__nine_inboxes_down_for_a_minute_never_pause_the_host() -> None:
    # Given nine inboxes of one host failing one after another within a minute, counted as the worker does
    count, last = 0, None
    for second in range(0, 60, 6):
        now = T0 + timedelta(seconds=second)
        if counts_as_host_failure(count, last, now):
            count, last = count + 1, now
    # Then the host has one failure: no pause, everything goes at the first retry
    assert count == 1 and pause_for(count) is None


def _worker(worker_id: str, pid: int, machine: str = "m1") -> WorkerRecord:
    return WorkerRecord(worker_id, machine, pid, T0)


def test_gone_workers__only_ended_processes_of_this_machine() -> None:
    me = _worker("me", 100)
    workers = [me, _worker("dead", 101), _worker("alive", 102), _worker("elsewhere", 101, "m2"), _worker("twin", 100)]
    # A worker of another machine is judged by its heartbeat only; one of this process (another worker object in
    # the same process) is alive by definition
    assert gone_workers(workers, me, running=lambda pid: pid == 102) == ["dead"]
    assert gone_workers(workers, me, running=lambda pid: True) == []


def test_alive_since__heartbeats_older_than_the_stale_limit_are_gone() -> None:
    assert alive_since(T0, 15) == T0 - timedelta(seconds=15)
    assert alive_since(T0, 6) == T0 - timedelta(seconds=6)
