"""What a readiness probe asks the database: is it answering, which schema it holds, when workers last beat."""

from __future__ import annotations

from datetime import datetime

from fedblog.clock import from_text
from fedblog.store.db import Database, available_migrations


async def schema_version(db: Database) -> int:
    """The newest migration applied (a read: it also shows the database answers)."""
    return int(await db.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


def expected_schema_version() -> int:
    """The newest migration this code ships."""
    return max((version for version, _ in available_migrations()), default=0)


async def newest_worker_heartbeat(db: Database) -> datetime | None:
    """When the most recent delivery worker last said it was alive (None: no worker known)."""
    stamp = await db.fetch_value("SELECT MAX(heartbeat_at) FROM delivery_workers WHERE role = 'deliveries'")
    return from_text(stamp) if stamp else None
