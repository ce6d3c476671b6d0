"""The clock: whole-second UTC datetimes and their text, the same whether made anew or reused within a second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fedblog import clock


def test_utcnow__is_the_current_whole_second_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    now = clock.utcnow()
    after = datetime.now(UTC).replace(microsecond=0)
    assert before <= now <= after
    assert now.microsecond == 0 and now.tzinfo is UTC


def test_utcnow__moves_on_with_the_second_and_its_text_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = [1_800_000_000.2, 1_800_000_000.9, 1_800_000_001.0]
    monkeypatch.setattr(clock.time, "time", lambda: seconds[0])
    first = clock.utcnow()
    assert clock.to_text(first) == "2027-01-15T08:00:00Z"
    seconds.pop(0)
    assert clock.utcnow() == first
    seconds.pop(0)
    later = clock.utcnow()
    assert later == first + timedelta(seconds=1)
    assert clock.to_text(later) == "2027-01-15T08:00:01Z"
    assert clock.to_text(first) == "2027-01-15T08:00:00Z"  # an older moment is still written as itself


def test_to_text__any_moment_in_utc() -> None:
    assert clock.to_text(datetime(2026, 2, 21, 10, 30, 5, 999)) == "2026-02-21T10:30:05Z"  # naive: taken as UTC
    paris = timezone(timedelta(hours=1))
    assert clock.to_text(datetime(2026, 2, 21, 11, 30, tzinfo=paris)) == "2026-02-21T10:30:00Z"
    now = clock.utcnow()
    assert clock.from_text(clock.to_text(now)) == now
