"""A full disk or a read-only database: clear answers (503 with Retry-After), the visitor's text kept, /readyz says
why, one log line and no traceback; and `fedblog serve` refuses to start on a database it cannot write."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import LiveSite, SiteFactory, free_port, make_site
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.integration.blog_support import get, new_session, publish, submit_comment

# A full disk and a read-only file are SQLite's storage failures; PostgreSQL's (its server gone) are tested in
# test_postgresql.py.
pytestmark = pytest.mark.sqlite_only

FEDBLOG = str(Path(sys.executable).parent / "fedblog")
LONG_MESSAGE = "A thought that needs room. " * 180  # ~4,900 characters: needs a new database page
SQLITE_MAX_PAGES = 1073741823


@pytest.fixture
async def roomy_site(site_factory: SiteFactory) -> LiveSite:
    return await site_factory(overrides={"comments": {"moderation": "open", "rate_limit_per_minute": 100}})


@pytest.fixture
async def remote(roomy_site: LiveSite) -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(blog_public_key_pem=roomy_site.ctx.public_key_pem).start()
    yield server
    await server.close()


async def vacuum(site: LiveSite) -> None:
    """VACUUM (on the write connection: the read one refuses writes) refuses to run while a transaction is open on
    it, and the site's background loops (the scheduler, the notifiers) may hold one for a moment: wait for it to
    close (bounded)."""
    for _ in range(250):
        try:
            await site.ctx.db.connection.fetch_all("VACUUM")
            return
        except Exception as error:
            if "within a transaction" not in str(error):
                raise
            await asyncio.sleep(0.02)
    raise AssertionError("a transaction stayed open on the site's connection for 5 s")


async def fill_the_disk(site: LiveSite) -> None:
    """SQLite's own limit on the file's pages: the next page it needs fails with SQLITE_FULL, as on a full disk."""
    await vacuum(site)  # no free pages left to reuse
    pages = await site.ctx.db.connection.fetch_value("PRAGMA page_count")
    await site.ctx.db.connection.fetch_value(f"PRAGMA max_page_count = {int(pages)}")  # the writer's own limit


async def readyz(site: LiveSite) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{site.url}/readyz") as response:
        return response.status, await response.json()


async def test_disk_full__503s_that_keep_the_text_readyz_and_one_log_line(
    roomy_site: LiveSite, remote: RemoteInstance, caplog: pytest.LogCaptureFixture
) -> None:
    site = roomy_site
    await publish(site, "Post", slug="post")
    status, body = await readyz(site)
    assert (status, body["status"], body["checks"]["storage"]) == (200, "ready", "ok")
    await fill_the_disk(site)
    caplog.set_level(logging.INFO)

    # When a visitor sends a comment: Then 503, their text is still in the form, and nothing is stored
    async with new_session() as session:
        page = await submit_comment(site, "post", session, name="Ana", email="ana@example.org", message=LONG_MESSAGE)
    assert page.status == 503
    assert page.headers["Retry-After"].isdigit()
    assert "cannot save comments right now" in page.text
    assert f">{LONG_MESSAGE}</textarea>" in page.text
    assert 'value="Ana"' in page.text

    # /readyz reports it
    status, body = await readyz(site)
    assert status == 503 and "disk is full" in body["reason"]

    # A peer's activity gets a 503 with Retry-After (it retries), nothing recorded
    follow = follow_activity(remote, "alice", f"{site.url}/actor") | {"summary": "x" * 6000}
    status_code, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    assert status_code == 503

    # One line per refusal, never a traceback
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert any("disk is full" in record.getMessage() for record in caplog.records)

    # When space is back: Then the same comment goes through and /readyz is green again
    await site.ctx.db.connection.fetch_value(f"PRAGMA max_page_count = {SQLITE_MAX_PAGES}")
    async with new_session() as session:
        page = await submit_comment(site, "post", session, name="Ana", email="ana@example.org", message=LONG_MESSAGE)
    assert page.status == 303
    assert "A thought that needs room." in (await get(site, "/posts/post")).text
    status, body = await readyz(site)
    assert (status, body["status"], body["checks"]["storage"]) == (200, "ready", "ok")
    assert len(await site.ctx.comments.list_by_status()) == 1  # once: the refused one left nothing behind
    assert (await site.ctx.db.fetch_value("SELECT COUNT(*) FROM inbox_activities")) == 0


async def test_disk_full__the_inbox_answers_503_with_retry_after(roomy_site: LiveSite, remote: RemoteInstance) -> None:
    await fill_the_disk(roomy_site)
    follow = follow_activity(remote, "bob", f"{roomy_site.url}/actor") | {"summary": "y" * 6000}
    body = json.dumps(follow).encode()
    from fedblog.protocol.httpsig import sign_request

    url = f"{roomy_site.url}/inbox"
    headers = sign_request(
        private_key=remote.key("bob"),
        key_id=f"{remote.actor_id('bob')}#main-key",
        method="POST",
        url=url,
        body=body,
        headers={"Content-Type": "application/activity+json"},
    )
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        assert response.status == 503
        assert int(response.headers["Retry-After"]) > 0
        assert "storage unavailable" in (await response.json())["error"]


# --- start ---------------------------------------------------------------------------------------------------


@pytest.fixture
def locked() -> Iterator[list[Path]]:
    """Paths made unwritable by make_unwritable(), made writable again afterwards."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False, timeout=30)
        path.chmod(0o755 if path.is_dir() else 0o644)


def make_unwritable(path: Path, locked: list[Path]) -> None:
    """Really unwritable for the fedblog process: read-only permissions, and for root (who writes through any
    permission) the immutable attribute."""
    locked.append(path)
    path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True, timeout=30)


async def serve_and_wait(config: Path) -> tuple[int, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEDBLOG_")}
    process = await asyncio.create_subprocess_exec(
        FEDBLOG, "--config", str(config), "serve", "--port", str(free_port()),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return int(process.returncode or 0), err.decode()


def prepare(site_dir: Path) -> Path:
    config = make_site(site_dir, "http://127.0.0.1:9", overrides={"database": {"path": "data/fedblog.sqlite3"}})
    (site_dir / "data").mkdir()
    return config


async def test_start__refuses_a_database_folder_it_cannot_write(tmp_path: Path, locked: list[Path]) -> None:
    config = prepare(tmp_path)
    make_unwritable(tmp_path / "data", locked)
    code, err = await serve_and_wait(config)
    assert code == 1
    assert err.strip().count("\n") == 0, err  # one line
    assert err.startswith("fedblog: cannot use the database:")
    assert "data is not writable" in err
    assert not (tmp_path / "data" / "fedblog.sqlite3").exists()


async def test_start__refuses_a_read_only_database_file(tmp_path: Path, locked: list[Path]) -> None:
    config = prepare(tmp_path)
    database = tmp_path / "data" / "fedblog.sqlite3"
    database.write_bytes(b"")
    make_unwritable(database, locked)
    code, err = await serve_and_wait(config)
    assert code == 1
    assert err.strip().count("\n") == 0, err
    assert "fedblog.sqlite3 is not writable" in err
