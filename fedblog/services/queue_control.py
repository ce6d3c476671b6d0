"""The operator's hold on the delivery queue: what waits where (per host, per worker), failed deliveries tried
again, a host's undelivered deliveries dropped. The worker, in whatever process, sees the change at its next poll."""

from __future__ import annotations

from fedblog.clock import utcnow
from fedblog.context import Context
from fedblog.services.delivery import wake_worker
from fedblog.store.queue_admin import QueueAdminStore, QueueOverview


async def queue_overview(ctx: Context, host: str | None = None) -> QueueOverview:
    return await QueueAdminStore(ctx.db).overview(utcnow(), host)


async def retry_deliveries(ctx: Context, host: str | None = None) -> int:
    count = await QueueAdminStore(ctx.db).retry_failed(utcnow(), host)
    wake_worker(ctx)  # a worker in this process starts at once; others at their next poll
    return count


async def purge_host(ctx: Context, host: str) -> int:
    return await QueueAdminStore(ctx.db).purge_host(host)
