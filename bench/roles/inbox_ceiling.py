"""The inbox ceiling: a minimal aiohttp inbox that checks the digest, verifies the signature with keys already
in memory, parses the JSON and commits one aiosqlite row per activity (WAL, synchronous=NORMAL), then answers 202."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import aiosqlite
from aiohttp import web

from bench.actors import load_actors
from bench.roles.child import serve_commands
from bench.signing import verify_post
from fedblog.protocol.keys import load_private_key


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actors", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    actors = load_actors(args.actors)
    keys = {actor.key_id: load_private_key(actor.private_pem.encode()).public_key() for actor in actors}
    owners = {actor.key_id: actor.id for actor in actors}
    db = await aiosqlite.connect(args.database, isolation_level=None)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"):
        await db.execute(pragma)
    await db.execute("CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, actor TEXT, body TEXT)")
    lock = asyncio.Lock()

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        key_id = verify_post(request.method, request.path, request.headers, body, keys)
        if key_id is None:
            return web.json_response({"error": "bad signature"}, status=401)
        activity = json.loads(body)
        if activity.get("actor") != owners[key_id]:
            return web.json_response({"error": "signer is not the actor"}, status=401)
        async with lock:
            await db.execute("BEGIN")
            await db.execute(
                "INSERT OR IGNORE INTO activities VALUES (?, ?, ?)", (activity["id"], activity["actor"], body.decode())
            )
            await db.execute("COMMIT")
        return web.Response(status=202)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()

    async def count(_request: dict[str, Any]) -> dict[str, Any]:
        async with db.execute("SELECT COUNT(*) FROM activities") as cursor:
            row = await cursor.fetchone()
        return {"rows": row[0] if row else 0}

    try:
        await serve_commands({"count": count}, {"url": f"http://127.0.0.1:{args.port}"})
    finally:
        await runner.cleanup()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
