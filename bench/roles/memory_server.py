"""The read-path ceiling: aiohttp serving fedblog's own response bytes from memory, nothing else.

Pages are read from a JSON spec: [{"path", "as2", "content_type", "file"}]; a request gets the AS2 body when its
Accept mentions activity+json or ld+json, like fedblog's content negotiation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.roles.child import serve_commands


def load_pages(spec_path: str) -> dict[tuple[str, bool], tuple[bytes, str]]:
    pages = {}
    for item in json.loads(Path(spec_path).read_text(encoding="utf-8")):
        pages[(item["path"], item["as2"])] = (Path(item["file"]).read_bytes(), item["content_type"])
    return pages


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    pages = load_pages(args.spec)

    async def handle(request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        as2 = "activity+json" in accept or "ld+json" in accept
        page = pages.get((request.path, as2))
        if page is None:
            raise web.HTTPNotFound()
        return web.Response(body=page[0], headers={"Content-Type": page[1]})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()

    async def pages_count(_request: dict[str, Any]) -> dict[str, Any]:
        return {"pages": len(pages)}

    try:
        await serve_commands({"pages": pages_count}, {"url": f"http://127.0.0.1:{args.port}"})
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
