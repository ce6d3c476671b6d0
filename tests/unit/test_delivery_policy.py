"""The pure retry policy of the delivery queue."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from fedblog.services.delivery import GIVE_UP_AFTER, decide, next_delay, pause_for

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
