"""Followers' servers for the fan-out: one listening socket per simulated host (127.10.x.y), a shared inbox on
each, every POST's signature verified with fedblog's own verifier against the blog's public key, then counted.

A request that fails verification gets 401 and is counted as rejected. The monotonic clock is system-wide, so
the time of the last verified delivery compares directly with the time the driver or fedblog started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.roles.child import serve_commands
from fedblog.protocol.httpsig import SignatureError, verify_request


class Tally:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.verified = 0
        self.rejected = 0
        self.reasons: dict[str, int] = {}
        self.hosts: set[str] = set()
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.sample_body: str | None = None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", required=True, help="JSON list of loopback addresses to listen on")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--public-key", required=True, help="the blog's public key PEM")
    parser.add_argument("--key-id", required=True)
    args = parser.parse_args()
    addresses = json.loads(Path(args.addresses).read_text(encoding="utf-8"))
    public_key_pem = Path(args.public_key).read_text(encoding="utf-8")
    tally = Tally()

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            params = verify_request(
                method=request.method,
                path_qs=request.path_qs,
                headers=request.headers,
                body=body,
                public_key_pem=public_key_pem,
                now=datetime.now(UTC),
            )
            if params.key_id != args.key_id:
                raise SignatureError(f"signed by {params.key_id}, not the blog")
        except SignatureError as error:
            tally.rejected += 1
            tally.reasons[str(error)] = tally.reasons.get(str(error), 0) + 1
            refused = web.json_response({"error": str(error)}, status=401)
            refused.force_close()
            return refused
        now = time.monotonic()
        tally.verified += 1
        tally.hosts.add(request.host)
        tally.first_at = tally.first_at or now
        tally.last_at = now
        if tally.sample_body is None:
            tally.sample_body = body.decode()
        response = web.Response(status=202)
        # Posts are hours apart: a real fan-out finds no kept-alive connection, so neither fedblog nor the
        # ceiling may keep one from the previous run (this also bounds the sinks' open files at 10,000 hosts).
        response.force_close()
        return response

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/inbox", inbox)
    app.router.add_post("/users/{name}/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for address in addresses:
        await web.TCPSite(runner, address, args.port, backlog=1024).start()

    async def report(request: dict[str, Any]) -> dict[str, Any]:
        data = {
            "verified": tally.verified,
            "rejected": tally.rejected,
            "reasons": tally.reasons,
            "hosts": len(tally.hosts),
            "first_at": tally.first_at,
            "last_at": tally.last_at,
            "cpu_seconds": time.process_time(),
        }
        if request.get("body"):
            data["sample_body"] = tally.sample_body
        return data

    async def reset(_request: dict[str, Any]) -> dict[str, Any]:
        tally.reset()
        return {}

    try:
        await serve_commands({"report": report, "reset": reset}, {"addresses": len(addresses)})
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
