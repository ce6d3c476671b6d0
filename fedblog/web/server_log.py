"""The HTTP server's own log: a malformed request (a header line or URL over the limits, a method that is not a
token, a bad chunk) is the client's mistake, answered 400 by aiohttp; it is logged as one WARNING line naming the
client and the reason, not as an ERROR with a traceback. Anything else keeps aiohttp's log as it is."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger

REASON_CHARS = 200


class MalformedRequestsInOneLine(logging.LoggerAdapter):
    """Given to aiohttp's request handler as its logger (Application handler_args)."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            client = args[0] if args else "?"
            reason = (exc_info.message or type(exc_info).__name__).replace("\n", " ")[:REASON_CHARS]
            self.logger.warning("malformed request from %s refused (400): %r", client, reason)
            return
        self.logger.error(msg, *args, exc_info=exc_info, **kwargs)


def server_handler_args() -> dict[str, Any]:
    return {"logger": MalformedRequestsInOneLine(server_logger, {})}
