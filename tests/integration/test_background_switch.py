"""Which background loops an app runs: `fedblog serve --no-worker` (background=False) runs none of the background
work, `fedblog serve` and `fedblog worker` (background=True) run all of it. Read from the tasks alive in the
process once the app has started, by the names the lifetimes give them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from fedblog.app import create_app
from fedblog.config import load_settings
from tests.conftest import free_port, make_site

BACKGROUND_LOOPS = {
    "inbox catch-up and delivery worker",
    "scheduled posts publisher",
    "e-mail notifier",
    "commenters' e-mail notifier",
    "webmention verification worker",
    "webmention sending worker",
    "thread backfill worker",
    "housekeeping",
    "inbox leftovers",
}
# The web process's own bookkeeping: the page views it counted itself, written once a minute.
WEB_LOOPS = {"post view counts writer"}


async def loops_running(tmp_path: Path, background: bool, unnamed: bool = False) -> set[str]:
    base_url = f"http://127.0.0.1:{free_port()}"
    overrides = {
        # A mail server named (nothing listens there: the loops sleep first), so every mail loop has work to do.
        "notifications": {"email": "author@example.org", "smtp_host": "127.0.0.1", "smtp_port": free_port()},
        "federation": {"allow_private_addresses": True},
    }
    settings = load_settings(make_site(tmp_path / str(background), base_url, overrides=overrides), environ={})
    runner = web.AppRunner(create_app(settings, background=background), access_log=None)
    await runner.setup()
    try:
        await asyncio.sleep(0.1)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        return {task.get_name() for task in others if unnamed or not task.get_name().startswith("Task-")}
    finally:
        await runner.cleanup()


async def test_serve_no_worker_runs_no_background_loop(tmp_path: Path) -> None:
    running = await loops_running(tmp_path, background=False, unnamed=True)
    assert running & BACKGROUND_LOOPS == set()
    assert running == WEB_LOOPS  # and no task without a name either


async def test_serve_and_worker_run_every_background_loop(tmp_path: Path) -> None:
    running = await loops_running(tmp_path, background=True)
    assert running >= BACKGROUND_LOOPS
    assert running - BACKGROUND_LOOPS <= WEB_LOOPS
