"""GET /readyz: can this process do its work? 200 when ready, 503 with the reason (for a load balancer or a
supervisor). Today's one reason: the database refused the last write (disk full, read-only), until a write
commits again."""

from __future__ import annotations

from aiohttp import web

from fedblog.web.keys import get_context


async def readyz(request: web.Request) -> web.Response:
    problem = get_context(request).db.storage_problem
    if problem is not None:
        return web.json_response({"status": "unavailable", "reason": f"database: {problem}"}, status=503)
    return web.json_response({"status": "ready"})


def setup(app: web.Application) -> None:
    app.router.add_get("/readyz", readyz, name="readyz")
