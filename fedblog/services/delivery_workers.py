"""Who holds the leases of the delivery queue and of the inbox: each holder has an id, the machine and process it
runs in, and a heartbeat (a row of `delivery_workers`, its role `deliveries` or `inbox`).

A lease ends at its `locked_until`, or as soon as its holder is known to be gone: its heartbeat is older than
`federation.heartbeat_stale_seconds` (any machine), or it ran on this machine in a process that no longer exists (a
`kill -9`: another process of the machine frees the dead one's leases at once instead of waiting for them to end).
This is the one way fedblog tells that a process is dead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from fedblog.store.deliveries import DELIVERIES, WorkerRecord

# A holder of leases says it is alive this often; one silent for federation.heartbeat_stale_seconds is gone.
HEARTBEAT_EVERY = timedelta(seconds=2)


def new_worker(now: datetime, role: str = DELIVERIES) -> WorkerRecord:
    return WorkerRecord(id=uuid.uuid4().hex, machine=socket.gethostname(), pid=os.getpid(), heartbeat_at=now, role=role)


def alive_since(now: datetime, stale_seconds: int) -> datetime:
    """The oldest heartbeat of a holder still counted as alive (`stale_seconds`: federation.heartbeat_stale_seconds)."""
    return now - timedelta(seconds=stale_seconds)


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
