"""The PostgreSQL backend's core on a real server (the private cluster of tests/postgres.py): migrations once under
an advisory lock, a newer database refused, one-line errors without the password, a lost server that answers
StorageUnavailable then is reconnected to, and commits of one process seen by another's data_version()."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fedblog.store.db import Conflict, SchemaTooNew, StorageUnavailable, SyncConnection, available_migrations
from fedblog.store.deliveries import DeliveryStore, Result, WorkerRecord
from fedblog.store.outbox import OutboxStore
from fedblog.store.postgresql import deliveries as pg_deliveries
from fedblog.store.postgresql.database import PostgresDatabase
from tests import postgres
from tests.conftest import SiteFactory, make_site
from tests.helpers import FEDBLOG, clean_env, run
from tests.integration.blog_support import csrf_token, get, new_session, post_form, publish

pytestmark = pytest.mark.postgresql_only


def one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


async def test_migrate__several_processes_at_once_apply_each_migration_once() -> None:
    # Given an empty database, When four openers start at once (as `serve --processes 4` does)
    url = postgres.cluster().empty_database()
    databases = await asyncio.gather(*(PostgresDatabase.connect(url) for _ in range(4)))
    try:
        # Then every migration is there, once, and each was applied by exactly one of them
        rows = await databases[0].fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        expected = [version for version, _ in available_migrations("postgresql")]
        assert [row[0] for row in rows] == expected
        assert sorted(version for db in databases for version in db.migrations_applied) == expected
        assert databases[0].dialect == "postgresql"
    finally:
        for db in databases:
            await db.close()


async def test_migrate__a_database_newer_than_the_code_is_refused() -> None:
    url = postgres.cluster().fresh_database()
    db = await PostgresDatabase.connect(url)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO schema_migrations VALUES (999, '2030-01-01T00:00:00Z')")
    await db.close()
    with pytest.raises(SchemaTooNew, match="migration 999"):
        await PostgresDatabase.connect(url)


async def test_cli_migrate__on_postgresql_applies_what_is_missing_then_nothing(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    env = clean_env(FEDBLOG_DATABASE_URL=postgres.cluster().empty_database())
    newest = max(version for version, _ in available_migrations("postgresql"))
    first = await run(FEDBLOG, "--config", str(config), "migrate", env=env)
    assert first.code == 0, first.err
    assert f"database at migration {newest:03d} ({len(available_migrations())} applied now: 001," in first.out
    second = await run(FEDBLOG, "--config", str(config), "migrate", env=env)
    assert second.out.strip() == f"database at migration {newest:03d} (nothing to apply)"


async def test_cli__a_newer_postgresql_database_stops_commands_with_one_line(tmp_path: Path) -> None:
    cluster = postgres.cluster()
    url = cluster.fresh_database()
    cluster.sql("INSERT INTO schema_migrations VALUES (999, '2030-01-01T00:00:00Z')", url.rsplit("/", 1)[1])
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    for command in (("post", "list"), ("migrate",)):
        result = await run(FEDBLOG, "--config", str(config), *command, env=clean_env(FEDBLOG_DATABASE_URL=url))
        assert result.code != 0
        line = one_error_line(result.err)
        assert "migration 999" in line and "newer" in line, command


async def test_cli__a_missing_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    cluster = postgres.cluster()
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    env = clean_env(
        FEDBLOG_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{cluster.port}/no_such_blog",
        FEDBLOG_DATABASE_PASSWORD="hunter2",
    )
    result = await run(FEDBLOG, "--config", str(config), "migrate", env=env)
    assert result.code != 0
    line = one_error_line(result.err)
    assert "database.url" in line and "no_such_blog" in line and "does not exist" in line
    assert "hunter2" not in result.err + result.out


@pytest.fixture
def own_cluster() -> Iterator[postgres.Cluster]:
    with postgres.own_cluster() as cluster:
        yield cluster


async def test_lost_server__reads_and_writes_are_storage_unavailable_then_work_again(
    own_cluster: postgres.Cluster,
) -> None:
    db = await PostgresDatabase.connect(own_cluster.fresh_database())
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO site_settings VALUES ('site.title', '\"Before\"', 'now')")

        # When the server stops, Then reads and writes say the server is unreachable (pages answer 503)
        await asyncio.to_thread(own_cluster.stop_server)
        with pytest.raises(StorageUnavailable, match="unreachable"):
            await db.fetch_all("SELECT key FROM site_settings")
        with pytest.raises(StorageUnavailable, match="unreachable"):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO site_settings VALUES ('site.lost', '1', 'now')")
        with pytest.raises(StorageUnavailable, match="unreachable"):
            await db.run_transaction(
                lambda raw: raw.execute("INSERT INTO site_settings VALUES ('site.lost', '1', 'now')")
            )
        assert db.storage_problem is not None and "unreachable" in db.storage_problem

        # When it is back, Then the next calls connect again: what was committed is there, nothing of the rest
        await asyncio.to_thread(own_cluster.start_server)
        assert [row[0] for row in await db.fetch_all("SELECT key FROM site_settings")] == ["site.title"]
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO site_settings VALUES ('site.after', '1', 'now')")
        assert db.storage_problem is None
        assert await db.fetch_value("SELECT COUNT(*) FROM site_settings") == 2
    finally:
        await db.close()


async def test_data_version__a_commit_in_another_process_is_seen_at_once() -> None:
    url = postgres.cluster().fresh_database()
    reader, writer = await PostgresDatabase.connect(url), await PostgresDatabase.connect(url)
    try:
        before = await reader.data_version()
        assert await reader.data_version() == before  # nothing committed: cached pages stay

        await writer.run_transaction(
            lambda raw: raw.execute("INSERT INTO site_settings VALUES ('site.title', '\"New\"', 'now')")
        )
        for _ in range(100):  # the NOTIFY arrives on the listening connection within milliseconds
            if await reader.data_version() != before:
                break
            await asyncio.sleep(0.02)
        assert await reader.data_version() != before

        # A transaction that changed nothing tells nobody (idle worker polls keep every cache)
        settled = await reader.data_version()
        async with writer.transaction() as conn:
            await conn.fetch_all("SELECT key FROM site_settings")
        await asyncio.sleep(0.3)
        assert await reader.data_version() == settled
    finally:
        await reader.close()
        await writer.close()


async def test_delivery_queue__a_claim_and_a_flush_committed_alone_are_seen_by_another_process() -> None:
    # Given a fan-out's jobs, and another process whose cached pages hang on data_version()
    url = postgres.cluster().fresh_database()
    reader, worker_db = await PostgresDatabase.connect(url), await PostgresDatabase.connect(url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        store = DeliveryStore(worker_db)
        async with worker_db.transaction() as conn:
            await OutboxStore(worker_db).insert(conn, "https://blog.example/a/1", "Create", None, "{}", True, now)
            await store.insert_jobs(
                conn,
                "https://blog.example/a/1",
                [("https://a.example/inbox", "a.example"), ("https://b.example/inbox", "b.example")],
                now,
            )
        statements: list[str] = []
        await worker_db.connection.set_trace_callback(statements.append)
        worker = WorkerRecord("w1", "here", 1, now)

        async def seen_by_reader(before: int) -> bool:
            for _ in range(100):  # the NOTIFY arrives on the listening connection within milliseconds
                if await reader.data_version() != before:
                    return True
                await asyncio.sleep(0.02)
            return False

        # When the worker claims them: one statement, no BEGIN or COMMIT, and the other process hears of it
        before = await reader.data_version()
        jobs = await store.claim_due(now, now + timedelta(minutes=5), 10, 4, worker=worker, alive_since=now)
        assert sorted(job.inbox for job in jobs) == ["https://a.example/inbox", "https://b.example/inbox"]
        assert await seen_by_reader(before)
        # When it records both as delivered, in one statement committed alone
        before = await reader.data_version()
        results = [Result(job.id, "delivered", 1) for job in jobs]
        await store.save_outcomes(results, ["a.example", "b.example"], now, worker)
        assert await seen_by_reader(before)
        # Then the other process reads what was committed: both delivered, no lease left, both hosts healthy
        rows = await reader.fetch_all("SELECT status, locked_by FROM deliveries ORDER BY id")
        assert [tuple(row) for row in rows] == [("delivered", None), ("delivered", None)]
        assert await reader.fetch_value("SELECT COUNT(*) FROM hosts WHERE consecutive_failures = 0") == 2
        assert not any(sql.startswith(("BEGIN", "COMMIT")) for sql in statements)
        assert not worker_db.connection.in_transaction
    finally:
        await reader.close()
        await worker_db.close()


async def test_transactions__begin_and_savepoints_go_with_the_next_statement_and_an_empty_one_sends_nothing() -> None:
    db = await PostgresDatabase.connect(postgres.cluster().fresh_database())
    try:

        async def trips() -> int:
            return int(await db.connection.run(lambda raw: getattr(raw, "round_trips")))  # noqa: B009

        insert = "INSERT INTO site_settings VALUES (?, '1', 'now')"
        async with db.transaction() as conn:  # the statement prepared once, before counting
            await conn.execute(insert, ("site.first",))
        # When a transaction runs nothing, Then nothing reaches the server
        before = await trips()
        async with db.transaction():
            pass
        assert await trips() == before
        # When one runs a statement in a savepoint that is released, Then BEGIN and SAVEPOINT go in one trip, the
        # statement in its own, and RELEASE with the NOTIFY and COMMIT in a third (five before)
        before = await trips()
        async with db.transaction() as conn:
            await conn.execute("SAVEPOINT work")
            await conn.execute(insert, ("site.second",))
            await conn.execute("RELEASE work")
        assert await trips() - before == 3
        # When a statement fails inside a savepoint, Then rolling back to it keeps the transaction's other rows
        async with db.transaction() as conn:
            await conn.execute(insert, ("site.third",))
            await conn.execute("SAVEPOINT work")
            with pytest.raises(Conflict):
                await conn.execute(insert, ("site.first",))
            await conn.execute("ROLLBACK TO work")
            await conn.execute("RELEASE work")
            await conn.execute(insert, ("site.fourth",))
        keys = [row[0] for row in await db.fetch_all("SELECT key FROM site_settings ORDER BY key")]
        assert keys == ["site.first", "site.fourth", "site.second", "site.third"]
        assert not db.connection.in_transaction
    finally:
        await db.close()


async def test_statements__each_text_is_parsed_once_per_connection_then_only_bound() -> None:
    db = await PostgresDatabase.connect(postgres.cluster().fresh_database())
    try:
        # When one statement runs three times with other values
        for key in ("site.a", "site.b", "site.c"):
            await db.run_transaction(
                lambda raw, key=key: raw.execute("INSERT INTO site_settings VALUES (?, '1', 'now')", (key,))
            )

        # Then the server holds it prepared once, under a name, and ran that three times (asyncpg's unnamed
        # statement was parsed and planned again at every execution)
        def prepared(raw: SyncConnection) -> list[tuple[object, ...]]:
            rows = raw.execute(
                "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements WHERE statement = ?",
                ("INSERT INTO site_settings VALUES ($1, '1', 'now')",),
            ).fetchall()
            return [tuple(row) for row in rows]

        [(name, executions)] = await db.connection.run(prepared)
        assert str(name).startswith("fedblog_") and executions == 3
        assert await db.fetch_value("SELECT COUNT(*) FROM site_settings") == 3
    finally:
        await db.close()


async def test_delivery_claim__reads_the_due_jobs_in_index_order_not_all_of_them_sorted() -> None:
    # Given a fan-out's 2,000 jobs, due at the same instant (as every job of one publication is)
    db = await PostgresDatabase.connect(postgres.cluster().fresh_database())
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        async with db.transaction() as conn:
            await OutboxStore(db).insert(conn, "https://blog.example/a/1", "Create", None, "{}", True, now)
            targets = [(f"https://h{n}.example/inbox", f"h{n}.example") for n in range(2000)]
            await DeliveryStore(db).insert_jobs(conn, "https://blog.example/a/1", targets, now)
        await db.connection.execute("ANALYZE deliveries")

        # When the server plans a claim of 32 of them (a window of 512)
        def plan(raw: SyncConnection) -> str:
            stamp, worker = now.isoformat(), ("w1", "here", 1, "deliveries")
            params = pg_deliveries._claim_parameters(stamp, stamp, 512, worker, {}, 4, 32, stamp, ("c", ""))
            return "\n".join(row[0] for row in raw.execute("EXPLAIN " + pg_deliveries.CLAIM, params).fetchall())

        explained = await db.run(plan)
        # Then it reads the window from deliveries_due in (next_attempt_at, id) order and stops there: the index
        # on (status, next_attempt_at) alone read every due job and sorted them, for every claim
        assert "Index Scan using deliveries_due on deliveries" in explained, explained
        assert "Sort Key: deliveries.next_attempt_at, deliveries.id" not in explained, explained
    finally:
        await db.close()


async def test_wakeups__a_poke_through_the_database_reaches_another_process() -> None:
    url = postgres.cluster().fresh_database()
    sender, worker = await PostgresDatabase.connect(url), await PostgresDatabase.connect(url)
    heard: list[str] = []
    got = asyncio.Event()
    stop = worker.listen_wakeups(lambda message: (heard.append(message), got.set()))
    assert stop is not None
    try:
        assert await sender.send_wakeup("deliveries")
        await asyncio.wait_for(got.wait(), 5)
        assert heard == ["deliveries"]
        stop()  # no longer listening: nothing more arrives
        await sender.send_wakeup("deliveries")
        await asyncio.sleep(0.3)
        assert heard == ["deliveries"]
    finally:
        await sender.close()
        await worker.close()


async def test_database_down__pages_answer_503_and_a_comment_is_kept_to_send_again(
    own_cluster: postgres.Cluster, site_factory: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    site = await site_factory(
        overrides={
            "comments": {"moderation": "open", "rate_limit_per_minute": 100},
            "database": {"url": own_cluster.fresh_database()},
        }
    )
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        form = await get(site, "/posts/post", session)
        assert form.status == 200
        fields = {"name": "Ana", "email": "ana@example.org", "website": "", "parent_id": "", "nickname": ""}
        fields |= {"message": "Still here after the outage.", "csrf_token": csrf_token(form.text)}

        # When the database server stops: Then pages answer 503 with a clear page, not a traceback
        await asyncio.to_thread(own_cluster.stop_server)
        caplog.set_level(logging.INFO)
        down = await get(site, "/posts/post", session)
        assert down.status == 503 and down.headers["Retry-After"].isdigit()
        assert "cannot reach its database" in down.text
        # And a comment sent meanwhile is refused with its text kept in the form, to send again
        refused = await post_form(site, "/posts/post/comments", fields, session)
        assert refused.status == 503
        assert "cannot reach its database" in refused.text
        assert ">Still here after the outage.</textarea>" in refused.text
        assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]

        # When it is back: Then the same comment goes through and shows
        await asyncio.to_thread(own_cluster.start_server)
        sent = await post_form(site, "/posts/post/comments", fields, session)
        assert sent.status == 303
        assert "Still here after the outage." in (await get(site, "/posts/post", session)).text
