"""A real XML-RPC pingback server on 127.0.0.1 (Python's xmlrpc.server, in a thread): plays a WordPress site that
our posts link to, recording each pingback.ping it is sent."""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class _QuietHandler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/xmlrpc.php",)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class PingbackServer:
    url: str = ""
    pings: list[tuple[str, str]] = field(default_factory=list)
    fault: xmlrpc.client.Fault | None = None  # set to answer every ping with this fault

    def ping(self, source: str, target: str) -> str:
        self.pings.append((source, target))
        if self.fault is not None:
            raise self.fault
        return "Pingback from " + source + " registered. Keep the web talking! :-)"


@contextmanager
def pingback_server() -> Iterator[PingbackServer]:
    state = PingbackServer()
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=_QuietHandler, logRequests=False, allow_none=False)
    server.register_function(state.ping, "pingback.ping")
    state.url = f"http://127.0.0.1:{server.server_address[1]}/xmlrpc.php"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
