"""/healthz and /readyz, asked over real HTTP of the running app, as a supervisor or a load balancer would."""

from __future__ import annotations

import json

import aiohttp

from fedblog.store.db import available_migrations
from fedblog.store.health import expected_schema_version
from tests.conftest import LiveSite


async def get(url: str) -> tuple[int, dict[str, str], dict]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        return response.status, dict(response.headers), json.loads(await response.text())


async def test_healthz__answers_while_the_process_lives(site: LiveSite) -> None:
    status, headers, body = await get(f"{site.url}/healthz")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    assert body == {"status": "ok"}


async def test_readyz__ready_with_database_schema_and_worker_and_nothing_secret(site: LiveSite) -> None:
    status, headers, body = await get(f"{site.url}/readyz")
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == {"applied": expected_schema_version(), "expected": expected_schema_version()}
    assert body["checks"]["worker"]["in_this_process"] is True
    assert body["checks"]["worker"]["running"] is True
    text = json.dumps(body)
    assert str(site.settings.database_path.parent) not in text  # no paths, no settings
    assert "private" not in text


async def test_readyz__a_schema_behind_the_code_is_not_ready(site: LiveSite) -> None:
    newest = expected_schema_version()
    previous = sorted(version for version, _ in available_migrations())[-2]
    async with site.ctx.db.transaction() as conn:
        await conn.execute("DELETE FROM schema_migrations WHERE version = ?", (newest,))
    status, _, body = await get(f"{site.url}/readyz")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"] == {"applied": previous, "expected": newest, "status": "behind"}


async def test_readyz__an_unreachable_database_answers_503_without_detail(site: LiveSite) -> None:
    # The database's connections closed under the server (what a lost volume looks like to the process)
    await site.ctx.db.close()
    status, _, body = await get(f"{site.url}/readyz")
    assert status == 503
    assert body == {"status": "unavailable", "checks": {"database": "unreachable"}}
    status, _, body = await get(f"{site.url}/healthz")
    assert status == 200
