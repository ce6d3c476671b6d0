"""The inbox and the shared inbox: hand the request to the inbox service and answer (202 once recorded)."""

from __future__ import annotations

from aiohttp import web

from fedblog.services.inbox import MAX_BODY_BYTES, receive
from fedblog.web.keys import get_context


async def post_inbox(request: web.Request) -> web.Response:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return web.json_response({"error": "body larger than 1 MiB"}, status=413)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "body larger than 1 MiB"}, status=413)
    answer = await receive(
        get_context(request),
        path_qs=request.raw_path,
        headers=request.headers,
        body=body,
        content_type=request.headers.get("Content-Type", ""),
    )
    metrics = get_context(request).runtime.metrics
    if metrics is not None:
        error = answer.payload.get("error", "") if answer.payload else ""
        metrics.inbox_answered(answer.activity_type or "other", answer.status, str(error))
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else None
    if answer.payload is None:
        return web.Response(status=answer.status, headers=headers)
    return web.json_response(answer.payload, status=answer.status, headers=headers)


def setup(app: web.Application) -> None:
    app.router.add_post("/actor/inbox", post_inbox, name="inbox")
    app.router.add_post("/inbox", post_inbox, name="shared_inbox")
