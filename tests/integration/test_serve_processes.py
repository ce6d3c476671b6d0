"""`fedblog serve --processes N` as real processes on a real port and one SQLite file: N web processes answer on the
one socket (a burst of connections shared between them), a comment sent through one shows on the next read through
another (its page cached there before), a process killed with SIGKILL is started again while the site keeps
answering, and SIGTERM stops all.

Which process answers a connection is read from /proc: the server side of each keep-alive connection is a socket
that exactly one child process holds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port, make_site
from tests.helpers import FEDBLOG, clean_env, eventually, run, wait_for_health

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads connections from /proc")

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Connection:
    """One keep-alive HTTP/1.1 connection: every request on it is answered by the process that accepted it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        self.reader, self.writer, self.port = reader, writer, port

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, port)

    @property
    def client_port(self) -> int:
        return int(self.writer.get_extra_info("sockname")[1])

    async def request(self, method: str, path: str, form: str = "") -> tuple[int, dict[str, str], str]:
        body = form.encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Length: {len(body)}\r\n"
        if form:
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        text = (await self.reader.readexactly(int(headers.get("content-length", "0")))).decode()
        return int(status_line.split()[1]), headers, text

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # /proc/PID/stat: "pid (name) state ppid …"; the name may hold spaces, so split after ")".
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def server_side_inode(server_port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return inode
    raise AssertionError(f"no server side for the connection from port {client_port}")


def answering_process(parent: int, connection: Connection) -> int:
    inode = server_side_inode(connection.port, connection.client_port)
    owners = [pid for pid in children_of(parent) if inode in socket_inodes(pid)]
    assert len(owners) == 1, owners
    return owners[0]


async def connections_on_two_processes(parent: int, port: int) -> tuple[Connection, Connection]:
    """Open connections until two are answered by different web processes; the others are closed."""
    opened: list[Connection] = []
    try:
        for _ in range(60):
            connection = await Connection.open(port)
            opened.append(connection)
            status, _, _ = await connection.request("GET", "/healthz")
            assert status == 200
            by_process = {answering_process(parent, c): c for c in opened}
            if len(by_process) >= 2:
                first, second = list(by_process.values())[:2]
                for other in opened:
                    if other not in (first, second):
                        await other.close()
                return first, second
            await asyncio.sleep(0.05)
    except BaseException:
        for connection in opened:
            await connection.close()
        raise
    raise AssertionError("every connection went to the same process")


@contextlib.asynccontextmanager
async def serving(config: Path, port: int, *options: str) -> AsyncIterator[asyncio.subprocess.Process]:
    env = clean_env(PORT=str(port), HOST="127.0.0.1")
    parent = await asyncio.create_subprocess_exec(
        FEDBLOG, "--config", str(config), "serve", *options, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        await wait_for_health(f"http://127.0.0.1:{port}")
        yield parent
    finally:
        if parent.returncode is None:
            parent.send_signal(signal.SIGTERM)
        await asyncio.wait_for(parent.wait(), timeout=60)


async def site_with_a_post(tmp_path: Path, port: int, metrics: bool = False) -> Path:
    config = make_site(
        tmp_path / "site",
        f"http://127.0.0.1:{port}",
        overrides={
            "comments": {"moderation": "open"},
            "webmention": {"send": False},
            "pingback": {"send": False},
            "metrics": {"enabled": metrics},
        },
    )
    post = tmp_path / "post.md"
    post.write_text("---\ntitle: Shared\nslug: shared\n---\nOne post, several processes.\n", encoding="utf-8")
    result = await run(FEDBLOG, "--config", str(config), "post", "publish", str(post))
    assert result.code == 0, result.err
    return config


async def test_a_comment_sent_through_one_process_shows_through_another(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port)
    async with serving(config, port, "--processes", "2") as parent:
        # Given two connections answered by two different web processes, each with the post page cached
        first, second = await connections_on_two_processes(parent.pid, port)
        try:
            for connection in (first, second):
                for _ in range(2):
                    status, _, page = await connection.request("GET", "/posts/shared")
                    assert status == 200
                    assert "A word from process one" not in page
            # When a visitor comments through the first process
            token = CSRF_RE.search(page)
            assert token is not None
            fields = "name=Vera&email=vera%40example.org&website=&message=A+word+from+process+one&nickname="
            form = f"{fields}&csrf_token={token.group(1)}"
            status, headers, _ = await first.request("POST", "/posts/shared/comments", form)
            assert status == 303, headers
            # Then the next read through the second process shows it
            status, _, page = await second.request("GET", "/posts/shared")
            assert status == 200
            assert "A word from process one" in page
        finally:
            await first.close()
            await second.close()
        parent.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(parent.wait(), timeout=60) == 0


async def test_a_burst_of_keep_alive_connections_is_shared_by_the_processes(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port)
    async with serving(config, port, "--processes", "2", "--no-worker") as parent:
        # Given two web processes, both serving
        for connection in await connections_on_two_processes(parent.pid, port):
            await connection.close()
        # When 32 clients open a keep-alive connection each at the same moment (a proxy's pool, a load generator)
        connections = await asyncio.gather(*(Connection.open(port) for _ in range(32)))
        try:
            answers = await asyncio.gather(*(connection.request("GET", "/healthz") for connection in connections))
            assert {status for status, _, _ in answers} == {200}
            # Then each web process answers a fair share of them, not the first one awake nearly all
            served = Counter(answering_process(parent.pid, connection) for connection in connections)
            assert set(served) == children_of(parent.pid), served
            assert min(served.values()) >= 8, served
        finally:
            await asyncio.gather(*(connection.close() for connection in connections))


def healthz_count(metrics_text: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("fedblog_http_requests_total{") and 'route="/healthz"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_sum_every_process(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port, metrics=True)
    async with serving(config, port, "--processes", "2", "--no-worker") as parent:
        # Given two connections answered by two different web processes
        first, second = await connections_on_two_processes(parent.pid, port)
        try:
            status, _, before = await first.request("GET", "/metrics")
            assert status == 200
            # When the other process answers five requests
            for _ in range(5):
                assert (await second.request("GET", "/healthz"))[0] == 200
            # Then /metrics through the first one counts them
            status, headers, after = await first.request("GET", "/metrics")
            assert status == 200 and headers["content-type"].startswith("text/plain")
            assert healthz_count(after) - healthz_count(before) == 5
        finally:
            await first.close()
            await second.close()


async def test_a_killed_process_is_started_again_and_sigterm_stops_all(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port)
    async with serving(config, port, "--processes", "2") as parent:
        # Given two web processes and a worker process under one parent
        children = await eventually(lambda: _children(parent.pid, 3), "three processes started")
        assert parent.stdout is not None
        lines = [(await asyncio.wait_for(parent.stdout.readline(), 10)).decode() for _ in range(2)]
        assert any("with 2 web processes and a worker process" in line for line in lines), lines
        # When one of them is killed outright
        victim = sorted(children)[0]
        os.kill(victim, signal.SIGKILL)
        # Then the parent starts another in its place, and the site answered meanwhile
        restarted = await eventually(lambda: _replaced(parent.pid, children, victim), "the process started again")
        assert victim not in restarted
        await wait_for_health(f"http://127.0.0.1:{port}")
        # And SIGTERM to the parent stops every process cleanly
        parent.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(parent.wait(), timeout=60) == 0
        assert all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in restarted)


async def _children(parent: int, count: int) -> set[int] | None:
    found = children_of(parent)
    return found if len(found) == count else None


async def _replaced(parent: int, before: set[int], victim: int) -> set[int] | None:
    now = children_of(parent)
    return now if len(now) == len(before) and victim not in now else None


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True


async def test_processes_must_be_a_small_number(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:8080")
    result = await run(FEDBLOG, "--config", str(config), "serve", "--processes", "0")
    assert result.code == 2
    assert "--processes: expected a number from 1 to 64, got '0'" in result.err


async def test_a_rolling_restart_loses_no_request(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port)
    async with serving(config, port, "--processes", "2", "--no-worker") as parent:
        web_processes = await eventually(lambda: _children(parent.pid, 2), "two web processes started")
        answered: list[int] = []
        failures: list[str] = []
        loading = True

        async def visitor() -> None:
            # A new connection per request, as many clients and proxies make them.
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=20)) as session:
                while loading:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/posts/shared") as response:
                            await response.read()
                            answered.append(response.status)
                    except (TimeoutError, aiohttp.ClientError) as error:
                        failures.append(repr(error))

        visitors = [asyncio.create_task(visitor()) for _ in range(4)]
        try:
            # When each web process in turn gets SIGTERM and is started again, under load
            for old in sorted(web_processes):
                before = children_of(parent.pid)
                os.kill(old, signal.SIGTERM)
                await eventually(lambda old=old, before=before: _replaced(parent.pid, before, old), "a new process")
                await asyncio.sleep(1.0)
        finally:
            loading = False
            await asyncio.gather(*visitors)
        # Then every request got its page
        assert failures == []
        assert len(answered) > 20 and set(answered) == {200}


async def test_the_processes_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    port = free_port()
    config = await site_with_a_post(tmp_path, port)
    async with serving(config, port, "--processes", "2") as parent:
        children = await eventually(lambda: _children(parent.pid, 3), "three processes started")
        # When the parent is killed outright (it cannot pass anything on)
        parent.kill()
        await asyncio.wait_for(parent.wait(), timeout=10)
        # Then its children notice and stop by themselves, none left serving
        await eventually(lambda: _all_gone(children), "the children stopped", timeout=30)


async def _all_gone(pids: set[int]) -> bool:
    return all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in pids)
