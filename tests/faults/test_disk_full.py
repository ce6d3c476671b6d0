"""A disk that fills up under `fedblog serve` in the middle of a fan-out: a real, small filesystem (tmpfs) holds the
database. The deliveries sent meanwhile are recorded once there is room again: none lost, none sent twice, and
the server logs one line per refusal, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.faults.support import (
    InboxFarm,
    ServedBlog,
    add_followers,
    delivery_states,
    fault_site,
    publish_offline,
    wait_until,
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (root only; the scenario is skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, timeout=30, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30, check=False)


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last byte (unbuffered writes: each one fails or lands)."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, b"\0" * size)
    finally:
        os.close(descriptor)
    probe = disk / "probe"
    with pytest.raises(OSError) as refused:
        probe.write_bytes(b"x" * 4096)
    assert refused.value.errno == errno.ENOSPC
    return filler


@pytest.mark.sqlite_only  # the SQLite file's own disk; on PostgreSQL the outage tests stop the server instead
@pytest.mark.timeout(120)
async def test_disk_full_during_a_fan_out__nothing_lost_nothing_doubled(tmp_path: Path, small_disk: Path) -> None:
    farm = await InboxFarm(hosts=10, delay=0.3).start()
    try:
        # Given a site whose database lives on a small disk, and a post queued for 100 followers
        port = free_port()
        settings = fault_site(
            tmp_path / "site", port, {"delivery_concurrency": 8}, database=small_disk / "fedblog.sqlite3"
        )
        assert settings.database_path.parent == small_disk
        await add_followers(settings, farm.inboxes(10))
        await publish_offline(settings, "Fan-out")
        log = tmp_path / "serve.log"
        blog = ServedBlog(settings, port)
        try:
            with log.open("wb") as err:
                await blog.start(stderr=err)
                # When the disk fills up while the first deliveries are on their way
                await wait_until(lambda: len(farm.arrivals) >= 1, "the fan-out started", timeout=30)
                filler = fill(small_disk)
                at_fill = len(farm.arrivals)
                # (the jobs already claimed go out; their outcomes cannot be written, and no more can be claimed)
                await wait_until(lambda: len(farm.arrivals) > at_fill, "deliveries sent while the disk is full", 30)
                await asyncio.sleep(2)
                assert len(farm.arrivals) < 100
                # And room comes back a little later
                os.unlink(filler)
                await wait_until(lambda: len(set(farm.per_inbox())) >= 100, "every inbox reached", timeout=60)
                states = None
                for _ in range(100):
                    states = await delivery_states(settings)
                    if states == {"delivered": 100}:
                        break
                    await asyncio.sleep(0.1)
        finally:
            await blog.stop()
        # Then every delivery is recorded, none was sent twice, and the log has no traceback
        assert states == {"delivered": 100}
        assert set(farm.per_inbox().values()) == {1}
        text = log.read_text(errors="replace")
        assert "Traceback" not in text
        assert "cannot be written" in text
    finally:
        await farm.close()
