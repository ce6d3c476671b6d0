"""The inbox load: replies from many remote accounts, signed (as Mastodon signs) before the clock starts, then
POSTed to an inbox with bounded concurrency over kept-alive connections."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aiohttp

from bench.actors import load_actors, reply_activity
from bench.roles.child import serve_commands
from bench.signing import signed_post_headers
from fedblog.protocol.keys import load_private_key


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actors", required=True)
    args = parser.parse_args()
    actors = load_actors(args.actors)
    keys = {actor.id: load_private_key(actor.private_pem.encode()) for actor in actors}
    prepared: list[tuple[str, bytes, dict[str, str]]] = []

    async def prepare(request: dict[str, Any]) -> dict[str, Any]:
        prepared.clear()
        inbox = request["inbox"]
        for number in range(request["count"]):
            actor = actors[number % len(actors)]
            activity = reply_activity(actor, request["first"] + number, request["post_url"], request["blog_actor"])
            body = json.dumps(activity).encode()
            prepared.append((inbox, body, signed_post_headers(keys[actor.id], actor.key_id, inbox, body)))
        return {"prepared": len(prepared)}

    async def run(request: dict[str, Any]) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        answered_at: list[float] = []  # when each answer came, in order: the cost of the first and last thousand
        concurrency = request["concurrency"]
        queue = list(reversed(prepared))
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            started = time.monotonic()

            async def sender() -> None:
                while queue:
                    url, body, headers = queue.pop()
                    try:
                        async with session.post(url, data=body, headers=headers) as response:
                            await response.read()
                            status = str(response.status)
                    except (aiohttp.ClientError, TimeoutError) as error:
                        status = type(error).__name__
                    statuses[status] = statuses.get(status, 0) + 1
                    answered_at.append(time.monotonic())

            await asyncio.gather(*(sender() for _ in range(concurrency)))
            finished = time.monotonic()
        return {"started": started, "finished": finished, "statuses": statuses, "answered_at": answered_at}

    await serve_commands({"prepare": prepare, "run": run}, {"actors": len(actors)})


if __name__ == "__main__":
    asyncio.run(main())
