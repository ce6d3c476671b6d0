"""Probes for a supervisor or a load balancer: `/healthz` (the process answers) and `/readyz` (it can serve: the
database answers, its schema is the one this code expects, its last write was not refused for lack of room, the
background work runs where this process runs it). JSON, never cached, nothing secret in them (no paths, no
settings, no error text from the database)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from fedblog.clock import utcnow
from fedblog.store.health import expected_schema_version, newest_worker_heartbeat, schema_version
from fedblog.web.keys import STATE_KEY, get_context

log = logging.getLogger(__name__)

NO_CACHE = {"Cache-Control": "no-store"}


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=NO_CACHE)


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ctx = get_context(request)
    checks: dict[str, Any] = {}
    ready = True
    try:
        applied = await schema_version(ctx.db)
        heartbeat = await newest_worker_heartbeat(ctx.db)
    except Exception as error:  # any database failure: not ready; the detail goes to the log, not to the caller
        log.warning("readiness: the database does not answer (%s)", type(error).__name__)
        return _json({"status": "unavailable", "checks": {"database": "unreachable"}}, 503)
    checks["database"] = "ok"
    # The last write was refused for lack of room (disk full, read-only file) and none has committed since.
    problem = ctx.db.storage_problem
    checks["storage"] = "ok" if problem is None else problem
    if problem is not None:
        ready = False
    expected = expected_schema_version()
    checks["migrations"] = {"applied": applied, "expected": expected}
    if applied != expected:
        ready = False
        checks["migrations"]["status"] = "behind" if applied < expected else "newer than this code"
    running = request.app[STATE_KEY].background_running
    worker: dict[str, Any] = {"in_this_process": running is not None}
    if running is not None:
        worker["running"] = running
        ready = ready and running
    if heartbeat is not None:
        worker["last_heartbeat_seconds_ago"] = max(0, round((utcnow() - heartbeat).total_seconds()))
    checks["worker"] = worker
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "checks": checks}
    if problem is not None:
        body["reason"] = f"database: {problem}"
    return _json(body, 200 if ready else 503)


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
