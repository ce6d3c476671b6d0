"""The channel PostgreSQL's change notifications go on, and the arguments of one, apart from raw.py: the delivery
queue's statements (postgresql/deliveries.py) need them, and store/deliveries.py imports those on SQLite too, where
asyncpg (which raw.py imports) is a cost of every start and of its memory for nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from fedblog.store.connection import SyncConnection

if TYPE_CHECKING:
    from fedblog.store.postgresql.raw import PostgresConnection

CHANGES_CHANNEL = "fedblog_changes"


def changes_notice(raw: SyncConnection) -> tuple[str, str]:
    """The arguments of `pg_notify` for a statement that commits alone (PostgresDatabase.run_statement): the channel
    and this process's payload, as its COMMITs send them."""
    return (CHANGES_CHANNEL, cast("PostgresConnection", raw).notify_payload)
