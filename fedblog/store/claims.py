"""Claiming queued jobs so that two workers never take the same one, on either backend.

Every queue (deliveries, webmentions, backfill…) claims the same way: read the due rows that hold no live lease,
write a lease (`locked_until`) on the ones taken, commit. On SQLite the claim runs in BEGIN IMMEDIATE, one writer at
a time, so two claims cannot interleave. On PostgreSQL transactions run side by side: the claim's SELECT locks the
rows it reads (`FOR UPDATE`) and passes over the rows another claim holds (`SKIP LOCKED`); once committed, the
lease keeps them taken. A worker killed mid-claim holds nothing: its transaction ends with its connection.
"""

from __future__ import annotations

from fedblog.store.connection import Dialect


def claiming(select: str, dialect: Dialect, of: str = "") -> str:
    """`select` (the due rows of a claim, run inside its transaction) as this dialect claims them: on PostgreSQL the
    rows are locked and rows locked by a concurrent claim skipped. `of`: the queue's table (or alias) when the
    SELECT joins others, whose rows must not be locked."""
    if dialect == "postgresql":
        return f"{select} FOR UPDATE{f' OF {of}' if of else ''} SKIP LOCKED"
    return select
