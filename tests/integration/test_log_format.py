"""`fedblog --log-format json serve` and `server.log_format = "json"`, as real processes: every line on standard
error is one JSON object, a line logged while handling a request carries that request's id (the proxy's
X-Request-Id), and nothing a client sent as a secret (its signature, cookie, bearer token) reaches the log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from fedblog.protocol.httpsig import sign_request
from tests.conftest import free_port, make_site
from tests.fakes.remote import remote_key
from tests.helpers import clean_env, started, wait_for_health

REQUEST_ID = "req-5f0c2a9e7d31"


async def test_json_log_lines_carry_the_request_id_and_no_secret(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = make_site(tmp_path / "site", base_url, overrides={"federation": {"allow_private_addresses": True}})
    env = clean_env(PORT=str(port), HOST="127.0.0.1")
    async with started("--config", str(config), "--log-format", "json", "serve", "--no-worker", env=env) as server:
        await wait_for_health(base_url)
        # Given an activity signed with a key that lives on a server that does not answer
        ghost = f"http://127.0.0.1:{free_port()}/users/ghost"
        body = json.dumps({"id": f"{ghost}/1", "type": "Follow", "actor": ghost, "object": f"{base_url}/actor"})
        headers = sign_request(
            private_key=remote_key("ghost"),
            key_id=f"{ghost}#main-key",
            method="POST",
            url=f"{base_url}/actor/inbox",
            body=body.encode(),
            headers={"Content-Type": "application/activity+json"},
        )
        signature = headers["Signature"].rsplit('signature="', 1)[1].rstrip('"')
        headers |= {
            "X-Request-Id": REQUEST_ID,
            "Cookie": "fedblog_admin=cookie-value-0451",
            "Authorization": "Bearer tk-0451",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base_url}/actor/inbox", data=body.encode(), headers=headers) as response,
        ):
            assert response.status == 401
        server.terminate()
        assert await asyncio.wait_for(server.wait(), timeout=30) == 0
        assert server.stderr is not None
        text = (await server.stderr.read()).decode()
    # Then every line is one JSON object
    entries = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message", "request_id", "pid"} <= set(entries[0])
    # And the line about the key names the request it came from
    about_key = [entry for entry in entries if "ghost#main-key" in entry["message"]]
    assert about_key, entries
    assert {entry["request_id"] for entry in about_key} == {REQUEST_ID}
    # And nothing secret the client sent is in the log
    for secret in (signature, "cookie-value-0451", "tk-0451"):
        assert secret not in text


async def test_the_config_key_chooses_json_for_the_worker(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:8080", overrides={"server": {"log_format": "json"}})
    async with started("--config", str(config), "worker", env=clean_env()) as worker:
        assert worker.stderr is not None
        first = json.loads(await asyncio.wait_for(worker.stderr.readline(), timeout=30))
        assert first["level"] == "INFO"
        worker.terminate()
        assert await asyncio.wait_for(worker.wait(), timeout=30) == 0
        rest = (await worker.stderr.read()).decode().splitlines()
    assert all(json.loads(line)["pid"] == worker.pid for line in rest)
