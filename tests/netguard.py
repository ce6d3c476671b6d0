"""Loopback only: every connection and name lookup of the test run that would leave 127.0.0.0/8 (or ::1) is refused.

Installed for the whole run (tests/conftest.py) and, through `netguard_site/sitecustomize.py` on PYTHONPATH, in the
Python processes the tests start (the CLI, the benchmark roles). A refused attempt raises inside the code that tried
(as a refused connection or an unknown name, so the code takes its ordinary failure path) and is recorded; the
autouse fixture `network_guard` then fails the test during which it happened, naming the target, even when the
code under test swallowed the error. Subprocesses append their attempts to the file named by `NETGUARD_LOG`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

LOG_ENV = "NETGUARD_LOG"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


class RefusedConnection(ConnectionRefusedError):
    """A connection to an address off loopback, refused before any packet leaves."""


class RefusedLookup(socket.gaierror):
    """A name lookup that could reach a DNS server, refused."""


_attempts: list[str] = []
_lock = threading.Lock()
_originals: dict[str, Any] = {}


def is_loopback_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_local_lookup(host: object) -> bool:
    """A lookup that needs no DNS server: no host (a listening socket), an IP literal (any form inet_aton reads:
    "0x7f000001", "2130706433", "0177.0.0.1"…, which getaddrinfo parses without asking DNS), or a loopback name.
    Where such an address leads is the connection guard's to judge."""
    if host is None or host in ("", b""):
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return True
    try:
        socket.inet_aton(name)
    except (OSError, ValueError):
        return False
    return True


def is_reserved_invalid(host: object) -> bool:
    """A name under the reserved `invalid` top-level domain (RFC 6761), which tests use for hosts that don't exist."""
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    return name.lower().rstrip(".").endswith(".invalid") or name.lower().rstrip(".") == "invalid"


def _connect_allowed(sock: socket.socket, address: Any) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # Unix sockets, netlink…: not the network
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return isinstance(host, str) and (is_loopback_ip(host) or host.lower() in LOOPBACK_NAMES)


def record(what: str) -> None:
    with _lock:
        _attempts.append(what)
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"pid {os.getpid()}: {what}\n")


def take_attempts() -> list[str]:
    """The attempts recorded in this process since the last call (and forget them)."""
    with _lock:
        taken = list(_attempts)
        _attempts.clear()
    return taken


def install() -> None:
    """Patch the socket module once per process. Idempotent."""
    if _originals:
        return
    _originals.update(
        connect=socket.socket.connect,
        connect_ex=socket.socket.connect_ex,
        sendto=socket.socket.sendto,
        getaddrinfo=socket.getaddrinfo,
        gethostbyname=socket.gethostbyname,
        gethostbyname_ex=socket.gethostbyname_ex,
    )

    def guarded_connect(original: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if not _connect_allowed(self, address):
                record(f"connect to {address!r}")
                raise RefusedConnection(f"test network guard: {address!r} is not loopback")
            return original(self, address)

        return connect

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        address = args[-1] if args else None
        if address is not None and not _connect_allowed(self, address):
            record(f"datagram to {address!r}")
            raise RefusedConnection(f"test network guard: {address!r} is not loopback")
        return _originals["sendto"](self, data, *args)

    def guarded_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
        def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
            if is_reserved_invalid(host):  # RFC 6761: never resolves; answered here as DNS would, asking no one
                raise RefusedLookup(socket.EAI_NONAME, f"{host!r} does not exist (.invalid)")
            if not is_local_lookup(host):
                record(f"DNS lookup of {host!r}")
                raise RefusedLookup(socket.EAI_NONAME, f"test network guard: no lookup of {host!r}")
            return original(host, *args, **kwargs)

        return lookup

    socket.socket.connect = guarded_connect(_originals["connect"])  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect(_originals["connect_ex"])  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment]
    socket.getaddrinfo = guarded_lookup(_originals["getaddrinfo"])
    socket.gethostbyname = guarded_lookup(_originals["gethostbyname"])
    socket.gethostbyname_ex = guarded_lookup(_originals["gethostbyname_ex"])
