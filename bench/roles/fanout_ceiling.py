"""The fan-out ceiling: the least a sender can do to deliver one activity to N inboxes. It loads the blog's key
once, then for each inbox signs (fedblog's pure signing function, so the requests are the same) and POSTs with
aiohttp, with the same concurrency as fedblog's delivery worker. No queue, no database, no retry bookkeeping."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.roles.child import serve_commands
from fedblog.protocol.httpsig import sign_request
from fedblog.protocol.keys import load_private_key


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True, help="the blog's private key PEM")
    parser.add_argument("--key-id", required=True)
    args = parser.parse_args()
    key = load_private_key(Path(args.key).read_bytes())

    async def run(request: dict[str, Any]) -> dict[str, Any]:
        inboxes: list[str] = request["inboxes"]
        body = request["body"].encode()
        concurrency = request["concurrency"]
        statuses: dict[str, int] = {}
        slots = asyncio.Semaphore(concurrency)
        # The semaphore bounds concurrency; no cookie jar (a fediverse sender keeps no cookies).
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            started, cpu = time.monotonic(), time.process_time()

            async def deliver(inbox: str) -> None:
                async with slots:
                    headers = sign_request(
                        private_key=key, key_id=args.key_id, method="POST", url=inbox, body=body,
                        headers={"Content-Type": "application/activity+json"},
                    )  # fmt: skip
                    try:
                        async with session.post(inbox, data=body, headers=headers) as response:
                            await response.read()
                            status = str(response.status)
                    except (aiohttp.ClientError, TimeoutError) as error:
                        status = type(error).__name__
                    statuses[status] = statuses.get(status, 0) + 1

            await asyncio.gather(*(deliver(inbox) for inbox in inboxes))
            finished = time.monotonic()
        cpu = time.process_time() - cpu
        return {"started": started, "finished": finished, "cpu_seconds": cpu, "statuses": statuses}

    await serve_commands({"run": run}, {})


if __name__ == "__main__":
    asyncio.run(main())
