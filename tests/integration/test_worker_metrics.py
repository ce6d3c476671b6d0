"""`fedblog worker` run on its own serves /metrics on metrics.worker_host:worker_port (loopback by default): its own
deliveries and the site's queue, and nothing of the blog; a port it cannot take stops it with one line."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp

from fedblog.config import load_settings
from tests.conftest import free_port, make_site
from tests.faults.support import InboxFarm, add_followers, publish_offline
from tests.helpers import FEDBLOG, clean_env, eventually, run, started


def worker_site(directory: Path, metrics_port: int) -> Path:
    return make_site(
        directory,
        f"http://127.0.0.1:{free_port()}",
        overrides={
            "federation": {"allow_private_addresses": True},
            "webmention": {"send": False},
            "metrics": {"enabled": True, "worker_port": metrics_port},
        },
    )


async def scrape(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_worker_metrics__a_lone_worker_serves_its_deliveries_and_the_queue(tmp_path: Path) -> None:
    farm = await InboxFarm(hosts=1).start()
    metrics_port = free_port()
    config = worker_site(tmp_path / "site", metrics_port)
    settings = load_settings(config, environ={})
    try:
        # Given a post queued for three followers, and no process running
        await add_followers(settings, farm.inboxes(3))
        await publish_offline(settings, "Queued")
        # When a worker runs on its own and delivers it
        async with started("--config", str(config), "worker", env=clean_env()) as worker:
            url = f"http://127.0.0.1:{metrics_port}/metrics"

            async def delivered() -> str | None:
                try:
                    status, text = await scrape(url)
                except aiohttp.ClientConnectionError:
                    return None  # not listening yet
                return text if status == 200 and 'fedblog_deliveries_total{outcome="delivered"} 3.0' in text else None

            text = await eventually(delivered, "three deliveries counted at the worker's metrics port", timeout=60)
            # Then its port shows its deliveries and the site's queue, and serves nothing else
            assert 'fedblog_queue_deliveries{state="pending"} 0.0' in text
            assert (await scrape(f"http://127.0.0.1:{metrics_port}/"))[0] == 404
            worker.terminate()
            assert await worker.wait() == 0
            assert worker.stdout is not None
            assert (
                f"serves its metrics at http://127.0.0.1:{metrics_port}/metrics"
                in (await worker.stdout.read()).decode()
            )
    finally:
        await farm.close()
    assert len(farm.arrivals) == 3


async def test_worker_metrics__a_port_already_taken_is_one_line_of_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = worker_site(tmp_path / "site", taken.getsockname()[1])
        result = await run(FEDBLOG, "--config", str(config), "worker")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "cannot serve metrics on 127.0.0.1:" in lines[0], result.err
    assert "Traceback" not in result.err
