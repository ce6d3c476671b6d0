"""Reads of concurrent requests that share one trip to the read connection's thread.

A trip is a thread wake-up each way (the database thread writes to the event loop's self-pipe for every result,
and on a pinned core each is a context switch): with 32 senders, the inbox's lookups before the signature check
were one trip per request and about a tenth of the server's time. Reads queued while a batch is under way go
together in the next one. Each read runs alone in a try: one that raises fails only its own caller.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from fedblog.store.batches import Runner, Runners, runs
from fedblog.store.connection import SyncConnection, translated
from fedblog.store.db import Batcher, Database, Work

T = TypeVar("T")


class ReadBatch:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._batcher = Batcher(self._read_batch)

    async def run(self, work: Callable[[SyncConnection], T]) -> T:
        """`work(raw connection)` on the database thread, with the reads queued beside it. Plain
        reads only: no writes (they would not be committed), no awaits, no I/O."""
        return await self._batcher.submit(work)

    async def _read_batch(self, works: list[Work]) -> list[tuple[bool, Any]]:
        try:
            return await self.db.run(partial(_run_each, works, self.db.read_runners))
        except Exception as error:  # the connection is closed or broken: every read of the batch fails
            return [(False, error)] * len(works)


def _run_each(works: list[Work], runners: Runners, raw: SyncConnection) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for runner, run in runs(works, runners):
        outcomes.extend([_alone(raw, run[0])] if runner is None else _read_together(raw, runner, run))
    return outcomes


def _read_together(raw: SyncConnection, runner: Runner, run: list[Work]) -> list[tuple[bool, Any]]:
    """Several of a kind the backend reads at once (store/batches.py); one by one if that fails, so each read
    fails only its own caller."""
    try:
        return runner(raw, run, partial(_alone, raw))
    except Exception:
        return [_alone(raw, work) for work in run]


def _alone(raw: SyncConnection, work: Work) -> tuple[bool, Any]:
    try:
        return (True, work(raw))
    except Exception as error:
        return (False, translated(error))
