"""fedblog/services/scheduling.py: how long the loop sleeps between two looks at the schedule."""

from __future__ import annotations

from fedblog.services.scheduling import LOOK_EVERY_SECONDS, seconds_until_next_look


def test_seconds_until_next_look__waits_for_the_next_post_but_never_long() -> None:
    assert seconds_until_next_look(None) == LOOK_EVERY_SECONDS  # nothing scheduled: look again later (the CLI)
    assert seconds_until_next_look(1.5) == 1.5  # due soon: wake up for it
    assert seconds_until_next_look(3600) == LOOK_EVERY_SECONDS  # due much later: look regularly meanwhile
    assert 0 < seconds_until_next_look(-10) < 0.1  # overdue (a busy loop never spins at 0)
