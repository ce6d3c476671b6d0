"""Works of one kind that a backend runs together: a few statements for a whole batch instead of each work's own.

The group commit (Database.run_transaction) and the read batch (ReadBatch) run works, plain functions of the raw
connection, one after the other. Some works are instances of a class a backend knows (store/threads.HeldReply,
store/inbox.PreflightRead); a run of such works, consecutive in the batch, goes to the backend's runner for that
class, which gives back their outcomes in order. On PostgreSQL every statement is a round trip to the server, so
its runners read and write a batch with one statement per table (unnest arrays); SQLite has none (its statements
are C calls on the same thread), so every work runs alone there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fedblog.store.connection import SyncConnection, Work

Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)
# Runs one work the usual way (in a savepoint of its own inside a transaction): for what a runner leaves aside.
Alone = Callable[[Work], Outcome]
# (raw connection, a run of works of its class, alone) -> their outcomes in order. May raise: then the run is
# undone and each work runs alone instead, so a runner need not know every rule (a duplicate in one batch…).
Runner = Callable[[SyncConnection, list[Any], Alone], list[Outcome]]
Runners = Mapping[type, Runner]


def runs(works: list[Work], runners: Runners) -> Iterator[tuple[Runner | None, list[Work]]]:
    """The batch cut into runs: consecutive works of a class with a runner together (one alone too: a runner's few
    statements cost fewer round trips than the work's own), any other alone. Works keep their order: only
    neighbours of one kind are run together."""
    index = 0
    while index < len(works):
        runner = runners.get(type(works[index])) if runners else None
        end = index + 1
        if runner is not None:
            while end < len(works) and type(works[end]) is type(works[index]):
                end += 1
        yield runner, works[index:end]
        index = end
