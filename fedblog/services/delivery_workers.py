"""Who holds the delivery queue's leases: each worker has an id, the machine and process it runs in, and a heartbeat.

A lease ends at its `locked_until`, or as soon as its worker is known to be gone: its heartbeat is older than
HEARTBEAT_STALE (any machine), or it ran on this machine in a process that no longer exists (a `kill -9`: the
restarted process frees the dead one's leases at once instead of waiting minutes for them to run out).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from fedblog.store.deliveries import WorkerRecord

# A worker holding leases says it is alive this often; one silent for HEARTBEAT_STALE is gone.
HEARTBEAT_EVERY = timedelta(seconds=2)
HEARTBEAT_STALE = timedelta(seconds=15)


def new_worker(now: datetime) -> WorkerRecord:
    return WorkerRecord(id=uuid.uuid4().hex, machine=socket.gethostname(), pid=os.getpid(), heartbeat_at=now)


def alive_since(now: datetime) -> datetime:
    """The oldest heartbeat of a worker still counted as alive."""
    return now - HEARTBEAT_STALE


def gone_workers(workers: Iterable[WorkerRecord], me: WorkerRecord, running: Callable[[int], bool]) -> list[str]:
    """The workers of this machine whose process has ended (never `me`, never another process that runs)."""
    return [
        w.id for w in workers if w.id != me.id and w.machine == me.machine and w.pid != me.pid and not running(w.pid)
    ]


def process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
