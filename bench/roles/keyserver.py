"""The remote servers the inbox benchmark's accounts live on: actor documents with their public keys, and
WebFinger, one listening socket per simulated host. Counts fetches, to show how often fedblog asks."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from aiohttp import web

from bench.actors import load_actors
from bench.roles.child import serve_commands
from fedblog.protocol.keys import load_private_key, public_key_pem

CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actors", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    actors = load_actors(args.actors)
    documents: dict[str, dict[str, Any]] = {}
    for actor in actors:
        host = actor.id.split("/")[2]
        documents[actor.id] = {
            "@context": CONTEXT,
            "id": actor.id,
            "type": "Person",
            "preferredUsername": actor.username,
            "name": f"Reader {actor.username}",
            "url": f"http://{host}/@{actor.username}",
            "inbox": f"{actor.id}/inbox",
            "outbox": f"{actor.id}/outbox",
            "followers": f"{actor.id}/followers",
            "following": f"{actor.id}/following",
            "endpoints": {"sharedInbox": f"http://{host}/inbox"},
            "publicKey": {
                "id": actor.key_id,
                "owner": actor.id,
                "publicKeyPem": public_key_pem(load_private_key(actor.private_pem.encode())),
            },
        }
    fetches = {"actor": 0, "webfinger": 0, "other": 0}

    async def actor_document(request: web.Request) -> web.Response:
        document = documents.get(f"http://{request.host}{request.path}")
        if document is None:
            fetches["other"] += 1
            raise web.HTTPNotFound()
        fetches["actor"] += 1
        return web.json_response(document, content_type="application/activity+json")

    async def webfinger(request: web.Request) -> web.Response:
        fetches["webfinger"] += 1
        resource = request.query.get("resource", "")
        username = resource.removeprefix("acct:").split("@", 1)[0]
        actor_id = f"http://{request.host}/users/{username}"
        if actor_id not in documents:
            raise web.HTTPNotFound()
        return web.json_response(
            {
                "subject": resource,
                "links": [{"rel": "self", "type": "application/activity+json", "href": actor_id}],
            },
            content_type="application/jrd+json",
        )

    app = web.Application()
    app.router.add_get("/users/{name}", actor_document)
    app.router.add_get("/.well-known/webfinger", webfinger)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for address in sorted({actor.address for actor in actors}):
        await web.TCPSite(runner, address, args.port, backlog=1024).start()

    async def report(_request: dict[str, Any]) -> dict[str, Any]:
        return dict(fetches)

    try:
        await serve_commands({"report": report}, {"actors": len(actors)})
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
