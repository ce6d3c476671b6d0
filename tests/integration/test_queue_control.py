"""`fedblog queue status|retry|purge` on a real SQLite file, as the operator runs them (the console script), on a
queue laid out as workers leave it: rows pending, leased by a live worker, failed, on a paused host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fedblog.assembly import open_context
from fedblog.clock import to_text
from fedblog.config import load_settings
from tests.conftest import LiveSite, make_site
from tests.helpers import FEDBLOG, run
from tests.integration.blog_support import get, post_form
from tests.integration.fed_support import admin_session

ACTIVITY = "https://blog.example/activities/1"


@pytest.fixture
async def config(tmp_path: Path) -> Path:
    path = make_site(tmp_path / "site", "http://127.0.0.1:8080")
    assert (await run(FEDBLOG, "--config", str(path), "post", "list")).code == 0  # creates the database
    await seed(path)
    return path


def seed_statements(
    a: str = "a.example", b: str = "b.example", c: str = "c.example"
) -> list[tuple[str, list[tuple[object, ...]]]]:
    now = datetime.now(UTC)
    stamp, later, hour_ago = to_text(now), to_text(now + timedelta(minutes=5)), to_text(now - timedelta(hours=1))
    rows = [
        (f"http://{a}/inbox", a, "pending", 0, later, None, None, hour_ago),
        (f"http://{a}/u/1/inbox", a, "pending", 0, stamp, later, "worker-1", stamp),
        (f"http://{b}/inbox", b, "failed", 9, stamp, None, None, stamp),
        (f"http://{b}/u/2/inbox", b, "pending", 3, later, None, None, stamp),
        (f"http://{c}/inbox", c, "delivered", 1, stamp, None, None, stamp),
    ]
    return [
        ("INSERT INTO outbox (id, type, body, published_at) VALUES (?, 'Create', '{}', ?)", [(ACTIVITY, stamp)]),
        (
            "INSERT INTO deliveries (activity_id, inbox, host, status, attempts, next_attempt_at, locked_until, "
            "locked_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(ACTIVITY, *row) for row in rows],
        ),
        ("INSERT INTO hosts (host, consecutive_failures, paused_until) VALUES (?, 9, ?)", [(b, later)]),
        (
            "INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at) "
            "VALUES ('worker-1', 'web-1', 4242, ?, ?)",
            [(stamp, stamp)],
        ),
        (  # a web process holding inbox activities: no delivery worker
            "INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at, role) "
            "VALUES ('inbox-1', 'web-2', 4343, ?, ?, 'inbox')",
            [(stamp, stamp)],
        ),
    ]


async def seed(path: Path) -> None:
    """The rows of seed_statements() in the site's database, whichever backend the site is on."""
    async with open_context(load_settings(path, environ={})) as ctx, ctx.db.transaction() as conn:
        for sql, rows in seed_statements():
            await conn.executemany(sql, rows)


async def queue(config: Path, *args: str) -> tuple[int, list[str], str]:
    result = await run(FEDBLOG, "--config", str(config), "queue", *args)
    return result.code, result.out.splitlines(), result.err


def row(lines: list[str], first_word: str) -> list[str]:
    found = [line.split() for line in lines if line.split()[:1] == [first_word]]
    assert len(found) == 1, lines
    return found[0]


async def test_queue_status__per_host_and_per_worker(config: Path) -> None:
    code, lines, err = await queue(config, "status")
    assert code == 0, err
    assert lines[0] == "pending 2, retrying 1, failed 1, delivered 1"
    assert lines[1].startswith("leased 1, paused hosts 1, oldest undelivered 60m")
    # pending, retrying, failed, leased
    assert row(lines, "a.example")[:5] == ["a.example", "1", "0", "0", "1"]
    assert row(lines, "b.example")[:5] == ["b.example", "0", "1", "1", "0"]
    assert "paused until" in " ".join(row(lines, "b.example"))
    assert not any(line.startswith("c.example") for line in lines)  # all delivered: nothing to show
    assert row(lines, "worker-1")[:4] == ["worker-1", "web-1", "4242", "1"]
    assert not any(line.startswith("inbox-1") for line in lines)  # the delivery workers only


async def test_queue_retry__one_host_due_now_and_unpaused(config: Path) -> None:
    code, lines, err = await queue(config, "retry", "--host", "b.example")
    assert code == 0, err
    assert lines == ["2 deliveries to b.example due now"]
    _, lines, _ = await queue(config, "status")
    assert lines[0] == "pending 3, retrying 1, failed 0, delivered 1"
    assert row(lines, "b.example")[1:5] == ["1", "1", "0", "0"] and "ok" in row(lines, "b.example")


async def test_queue_purge__needs_confirmation_then_drops_only_that_host(config: Path) -> None:
    code, _, err = await queue(config, "purge", "--host", "a.example")
    assert code == 2
    assert "add --yes to confirm" in err
    _, lines, _ = await queue(config, "status")
    assert lines[0] == "pending 2, retrying 1, failed 1, delivered 1"  # nothing dropped without --yes
    code, lines, err = await queue(config, "purge", "--host", "a.example", "--yes")
    assert code == 0, err
    assert lines == ["dropped 2 undelivered deliveries to a.example"]
    _, lines, _ = await queue(config, "status")
    assert lines[0] == "pending 0, retrying 1, failed 1, delivered 1"


async def test_admin_queue__leases_workers_and_a_retry_button(site: LiveSite) -> None:
    # Given a host whose delivery failed and a worker holding a lease elsewhere (hosts on loopback, where nothing
    # listens: the site's own worker tries what becomes due)
    a, b = "127.0.0.1:1", "127.0.0.1:2"
    async with site.ctx.db.transaction() as conn:  # the site's own write path: it holds the file
        for sql, rows in seed_statements(a, b, "127.0.0.1:3"):
            await conn.executemany(sql, rows)
    session, token = await admin_session(site)
    try:
        page = await get(site, "/admin/queue", session)
        assert page.status == 200
        assert "web-1" in page.text and "4242" in page.text  # the worker, from the database
        assert '<td class="leased">1</td>' in page.text  # a.example's row being sent
        assert page.text.count('action="/admin/queue/retry"') == 1  # b only: failed and paused
        assert f'<input type="hidden" name="host" value="{b}">' in page.text
        # When the author presses "Retry now" for that host
        answer = await post_form(site, "/admin/queue/retry", {"csrf_token": token, "host": b}, session)
        assert answer.status == 303
        page = await get(site, answer.headers["Location"], session)
        # Then its failed delivery and its waiting retry are due again
        assert "2 deliveries are due again." in page.text
        # And without the form's token nothing happens
        refused = await post_form(site, "/admin/queue/retry", {"host": b}, session)
        assert refused.status == 403
    finally:
        await session.close()
