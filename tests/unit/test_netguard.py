"""The test run's loopback-only guard: anything off loopback is refused at once and fails the test that tried."""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import aiohttp
import pytest

from tests import netguard

pytest_plugins = ["pytester"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_netguard__refuses_connections_and_lookups_off_loopback() -> None:
    # Given the guard installed for the run; When code tries a public address and a DNS name
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.org", 443)
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(ConnectionRefusedError):
        sock.connect_ex(("2001:db8::1", 80, 0, 0))
    # Then both were refused before anything left, and recorded (taken here, so this test itself passes)
    attempts = netguard.take_attempts()
    assert any("192.0.2.1" in attempt for attempt in attempts)
    assert any("example.org" in attempt for attempt in attempts)
    assert any("2001:db8::1" in attempt for attempt in attempts)


def test_netguard__loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo("127.0.0.2", 80)
    assert netguard.take_attempts() == []


async def test_netguard__aiohttp_client_off_loopback_fails_like_an_unknown_host() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError):
            await session.get("http://example.org/", timeout=aiohttp.ClientTimeout(total=5))
    assert any("example.org" in attempt for attempt in netguard.take_attempts())


def test_netguard__a_test_that_reached_out_fails_even_when_it_swallowed_the_error(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a test file whose tests hide the refusal (as a background sender logging a failure would)
    monkeypatch.setenv(netguard.LOG_ENV, str(tmp_path / "inner.log"))
    monkeypatch.setenv("PYTHONPATH", f"{REPO_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    pytester.makeconftest("from tests.conftest import network_guard, pytest_configure  # noqa: F401\n")
    pytester.makepyfile(
        textwrap.dedent(
            """
            import socket
            import subprocess
            import sys

            def test_swallowed():
                try:
                    socket.getaddrinfo("example.org", 80)
                except OSError:
                    pass

            def test_in_a_subprocess():
                code = "import socket\\ntry:\\n socket.create_connection(('192.0.2.7', 80), 1)\\nexcept OSError: pass"
                subprocess.run([sys.executable, "-c", code], check=True, timeout=30)

            def test_loopback_only():
                socket.getaddrinfo("127.0.0.1", 80)
            """
        )
    )
    # When the suite runs; Then the two that tried fail, naming what they tried, and the third passes
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        ["*teardown of test_swallowed*", "*example.org*", "*teardown of test_in_a_subprocess*", "*192.0.2.7*"]
    )


def test_netguard__an_invalid_name_is_unknown_at_once_and_not_a_failure() -> None:
    # RFC 6761 `.invalid` never resolves: the answer DNS would give, without asking it
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 80)
    assert netguard.take_attempts() == []
