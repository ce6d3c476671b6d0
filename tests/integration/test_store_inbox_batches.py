"""The inbox's works run together (a group commit of held replies, a read batch of preflights) give what each gives
alone: on PostgreSQL they are read and written a batch at a time (store/postgresql/batches.py), on SQLite one by
one. Each scenario runs concurrently on one database and one at a time on another, and both must end the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fedblog.models import CommentOrigin, CommentStatus
from fedblog.store.comments import NewComment, RemoteAuthor
from fedblog.store.db import Database, SyncConnection
from fedblog.store.inbox import InboxRecord, Preflight, preflight
from fedblog.store.read_batch import ReadBatch
from fedblog.store.threads import HoldsReply, store_held_reply
from tests.postgres import open_database

NOW = "2026-12-01T10:00:00Z"
KNOWN = "https://r.example/notes/known"
ALICE = RemoteAuthor("https://r.example/users/alice", "Alice", "@alice@r.example", None, None)
BOB = RemoteAuthor("https://r.example/users/bob", "Bob", "@bob@r.example", None, None)
CAROL = RemoteAuthor("https://s.example/users/carol", "Carol (new name)", "@carol@s.example", None, None)


async def seeded(path: Path) -> Database:
    """A post open for comments, a draft, Bob's approved comment made of KNOWN, a deleted Note, Carol as she was."""
    db = await open_database(path)

    def seed(raw: SyncConnection) -> None:
        for slug, draft in (("open", 0), ("draft", 1)):
            raw.execute(
                "INSERT INTO posts (slug, title, body_markdown, body_html, language, draft, published_at, created_at)"
                " VALUES (?, ?, '', '', 'en', ?, ?, ?)",
                (slug, slug, draft, NOW, NOW),
            )
        for author in (BOB, RemoteAuthor(CAROL.actor_id, "Carol", CAROL.handle, None, None)):
            raw.execute(
                "INSERT INTO comment_authors (kind, name, actor_id, handle, created_at) VALUES ('remote', ?, ?, ?, ?)",
                (author.name, author.actor_id, author.handle, NOW),
            )
        raw.execute(
            "INSERT INTO comments (post_id, author_id, origin, status, content_html, remote_id, created_at) "
            "SELECT p.id, a.id, 'fediverse', 'approved', 'hello', ?, ? FROM posts p, comment_authors a "
            "WHERE p.slug = 'open' AND a.actor_id = ?",
            (KNOWN, NOW, BOB.actor_id),
        )
        raw.execute(
            "INSERT INTO remote_tombstones (object_id, actor_id, deleted_at) VALUES (?, ?, ?)",
            ("https://r.example/notes/deleted", ALICE.actor_id, NOW),
        )

    await db.run_transaction(seed)
    return db


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    together, alone = await seeded(tmp_path / "together.sqlite3"), await seeded(tmp_path / "alone.sqlite3")
    yield together, alone
    await together.close()
    await alone.close()


def held(trusted: Callable[[], bool], state: tuple[bool, str] | None) -> bool:
    return True


def held_unless_trusted(trusted: Callable[[], bool], state: tuple[bool, str] | None) -> bool:
    return not trusted()


@dataclass(frozen=True)
class Reply:
    note: str
    author: RemoteAuthor
    ref: tuple[str, str]
    holds: HoldsReply = held
    approved_listener: bool = False


def scenario(bobs_comment: int) -> list[Reply]:
    return [
        Reply("https://r.example/notes/1", ALICE, ("post", "open")),  # a new author
        Reply("https://r.example/notes/2", ALICE, ("post", "open")),  # the same author again
        Reply("https://s.example/notes/3", CAROL, ("remote", KNOWN)),  # renamed, answering a remote Note
        Reply("https://r.example/notes/4", BOB, ("comment", str(bobs_comment))),  # to one of our comment ids
        Reply("https://r.example/notes/5", ALICE, ("remote", "https://r.example/notes/unknown")),  # to fetch
        Reply("https://r.example/notes/6", ALICE, ("post", "missing")),
        Reply("https://r.example/notes/7", ALICE, ("post", "draft")),
        Reply("https://r.example/notes/deleted", ALICE, ("post", "open")),
        Reply(KNOWN, BOB, ("post", "open")),  # stored already
        Reply("https://r.example/notes/10", BOB, ("post", "open"), held_unless_trusted),  # approved: the long way
        Reply("https://r.example/notes/11", BOB, ("post", "open"), held_unless_trusted, approved_listener=True),
        Reply("https://r.example/notes/12", ALICE, ("comment", "not-a-number")),
    ]


def reply_work(reply: Reply, number: int, published: list[str]) -> Any:
    pending = NewComment(0, None, 0, CommentOrigin.FEDIVERSE, CommentStatus.PENDING, f"<p>{number}</p>",
                         remote_id=reply.note, created_at=NOW)  # fmt: skip
    record = InboxRecord(f"https://r.example/activities/{number}", reply.author.actor_id, reply.author.actor_id,
                         "Create", reply.note, "{}")  # fmt: skip

    def listener(raw: SyncConnection, comment_id: int, new: NewComment) -> None:
        raw.execute("UPDATE comments SET summary = 'published' WHERE id = ?", (comment_id,))
        published.append(str(new.remote_id))

    return (reply.ref, pending, reply.author, record, reply.holds, listener if reply.approved_listener else None)


async def what_is_stored(db: Database) -> dict[str, Any]:
    comments = await db.fetch_all(
        "SELECT c.remote_id, p.slug, parent.remote_id, c.status, c.summary, a.actor_id, a.name FROM comments c "
        "JOIN posts p ON p.id = c.post_id JOIN comment_authors a ON a.id = c.author_id "
        "LEFT JOIN comments parent ON parent.id = c.parent_id ORDER BY c.remote_id"
    )
    records = await db.fetch_all("SELECT id, signer_id, status, locked_by FROM inbox_activities ORDER BY id")
    authors = await db.fetch_all("SELECT actor_id, name, handle FROM comment_authors ORDER BY actor_id")
    return {
        "comments": [tuple(row) for row in comments],
        "records": [tuple(row) for row in records],
        "authors": [tuple(row) for row in authors],
    }


def outcome_of(result: Any) -> Any:
    return type(result).__name__ if isinstance(result, BaseException) else result


async def caught(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Exception as error:
        return error


async def bobs_comment_id(db: Database) -> int:
    return int(await db.fetch_value("SELECT id FROM comments WHERE remote_id = ?", (KNOWN,)))


async def test_held_replies__stored_together_as_each_alone(two: tuple[Database, Database]) -> None:
    # Given the same site twice, and replies of every kind the inbox's one trip meets
    together, alone = two
    published_together: list[str] = []
    published_alone: list[str] = []
    replies = scenario(await bobs_comment_id(together))
    assert await bobs_comment_id(alone) == await bobs_comment_id(together)
    # When they come at once (one group commit) on one, one after the other on the other
    at_once = await asyncio.gather(
        *(store_held_reply(together, *reply_work(r, n, published_together)) for n, r in enumerate(replies)),
        return_exceptions=True,
    )
    one_by_one = [
        await caught(store_held_reply(alone, *reply_work(r, n, published_alone))) for n, r in enumerate(replies)
    ]
    # Then each caller hears the same, and the same is stored
    assert [outcome_of(result) for result in at_once] == [outcome_of(result) for result in one_by_one]
    assert one_by_one[:5] == [True, True, True, True, False]  # the scenario means what it says
    assert published_together == published_alone == ["https://r.example/notes/11"]
    assert await what_is_stored(together) == await what_is_stored(alone)
    stored = await what_is_stored(together)
    assert ("https://s.example/notes/3", "open", KNOWN, "pending", "", CAROL.actor_id, CAROL.name) in stored["comments"]
    assert (CAROL.actor_id, CAROL.name, CAROL.handle) in stored["authors"]


async def test_held_replies__the_same_note_twice_at_once_is_stored_once(two: tuple[Database, Database]) -> None:
    # Given one Note sent twice (two activities), with other replies around it
    together, _ = two
    twice = Reply("https://r.example/notes/twice", ALICE, ("post", "open"))
    replies = [Reply("https://r.example/notes/before", BOB, ("post", "open")), twice, twice,
               Reply("https://r.example/notes/after", ALICE, ("post", "open"))]  # fmt: skip
    # When they come at once
    outcomes = await asyncio.gather(*(store_held_reply(together, *reply_work(r, n, [])) for n, r in enumerate(replies)))
    # Then every activity is settled, and the Note is one comment
    assert outcomes == [True, True, True, True]
    remote_ids = [row[0] for row in (await what_is_stored(together))["comments"]]
    assert remote_ids.count("https://r.example/notes/twice") == 1
    assert {"https://r.example/notes/before", "https://r.example/notes/after"} <= set(remote_ids)
    assert len((await what_is_stored(together))["records"]) == 4


async def test_preflight__read_together_as_each_alone(two: tuple[Database, Database]) -> None:
    # Given blocks (an actor, a parent domain), a troubled host, a key on record and an activity seen already
    together, alone = two

    def given(raw: SyncConnection) -> None:
        raw.execute("INSERT INTO blocks (kind, value, created_at) VALUES ('actor', ?, ?)",
                    ("https://r.example/users/mallory", NOW))  # fmt: skip
        raw.execute("INSERT INTO blocks (kind, value, created_at) VALUES ('domain', 'evil.example', ?)", (NOW,))
        raw.execute("INSERT INTO hosts (host, consecutive_failures) VALUES ('down.example', 2)")
        raw.execute("INSERT INTO hosts (host, consecutive_failures) VALUES ('r.example', 0)")
        raw.execute(
            "INSERT INTO remote_actors (id, type, inbox, public_key_id, public_key_pem, fetched_at) "
            "VALUES (?, 'Person', ?, ?, 'PEM', ?)",
            (ALICE.actor_id, f"{ALICE.actor_id}/inbox", f"{ALICE.actor_id}#main-key", NOW),
        )
        raw.execute(
            "INSERT INTO inbox_activities (id, signer_id, actor_id, type, body, status, received_at) "
            "VALUES ('https://r.example/activities/seen', ?, ?, 'Create', '{}', 'processed', ?)",
            (ALICE.actor_id, ALICE.actor_id, NOW),
        )

    for db in two:
        await db.run_transaction(given)
    asks = [
        (ALICE.actor_id, f"{ALICE.actor_id}#main-key", "r.example", "https://r.example/activities/seen"),
        ("https://r.example/users/mallory", "https://r.example/users/mallory#main-key", "r.example", "a"),
        ("https://sub.evil.example/users/eve", "https://sub.evil.example/users/eve#key", "sub.evil.example", "b"),
        ("https://down.example/users/dan", "https://down.example/users/dan#key", "down.example", "c"),
        (BOB.actor_id, "", "", "d"),  # no key id, no host
    ]
    # When they are asked at once on one, one after the other on the other
    reads = ReadBatch(together)
    at_once = await asyncio.gather(*(preflight(reads, *ask) for ask in asks))
    one_by_one = [await preflight(ReadBatch(alone), *ask) for ask in asks]
    # Then every answer is the same, and says what was given
    assert at_once == one_by_one
    assert [answer.blocked for answer in at_once] == [False, True, True, False, False]
    assert [answer.troubled for answer in at_once] == [False, False, False, True, False]
    assert at_once[0] == Preflight(False, False, frozenset({ALICE.actor_id}), at_once[0].key)
    assert at_once[0].key is not None and at_once[0].key.public_key_pem == "PEM"
    assert [answer.key for answer in at_once[1:]] == [None] * 4


@pytest.mark.postgresql_only
async def test_held_replies__a_batch_is_a_few_statements_on_postgresql(two: tuple[Database, Database]) -> None:
    # Given 20 replies from 5 accounts, sent at once
    together, _ = two
    authors = [RemoteAuthor(f"https://r.example/users/{n}", f"User {n}", None, None, None) for n in range(5)]
    replies = [Reply(f"https://r.example/notes/many-{n}", authors[n % 5], ("post", "open")) for n in range(20)]
    statements: list[str] = []
    await together.connection.set_trace_callback(statements.append)
    # When they are stored in one group commit
    outcomes = await asyncio.gather(*(store_held_reply(together, *reply_work(r, n, [])) for n, r in enumerate(replies)))
    await together.connection.set_trace_callback(None)
    # Then all are, in one statement per table for the batch (a round trip each), not a dozen per reply
    assert outcomes == [True] * 20
    assert len((await what_is_stored(together))["comments"]) == 21
    assert len(statements) <= 8, statements


@pytest.mark.sqlite_only
async def test_held_replies__a_batch_shares_one_savepoint_on_sqlite(two: tuple[Database, Database]) -> None:
    # Given 20 replies from 5 accounts, sent at once, half of them published
    together, _ = two
    authors = [RemoteAuthor(f"https://r.example/users/{n}", f"User {n}", None, None, None) for n in range(5)]
    replies = [Reply(f"https://r.example/notes/many-{n}", authors[n % 5], ("post", "open"), held if n % 2 else
                     held_unless_trusted, approved_listener=True) for n in range(20)]  # fmt: skip
    published: list[str] = []
    statements: list[str] = []
    await together.connection.set_trace_callback(statements.append)
    # When they are stored in one group commit
    outcomes = await asyncio.gather(
        *(store_held_reply(together, *reply_work(r, n, published)) for n, r in enumerate(replies))
    )
    await together.connection.set_trace_callback(None)
    # Then all are stored, in one savepoint for the run instead of one per reply
    assert outcomes == [True] * 20
    assert len((await what_is_stored(together))["comments"]) == 21
    assert sum(1 for sql in statements if sql.startswith("SAVEPOINT")) <= 2, statements


@pytest.mark.postgresql_only
async def test_preflight__a_batch_is_one_statement_on_postgresql(two: tuple[Database, Database]) -> None:
    together, _ = two
    statements: list[str] = []
    await together.reader.set_trace_callback(statements.append)
    reads = ReadBatch(together)
    asks = [(f"https://r.example/users/{n}", f"https://r.example/users/{n}#key", "r.example", f"a{n}")
            for n in range(20)]  # fmt: skip
    answers = await asyncio.gather(*(preflight(reads, *ask) for ask in asks))
    await together.reader.set_trace_callback(None)
    assert [answer.blocked for answer in answers] == [False] * 20
    assert len(statements) == 1, statements


async def round_trips(db: Database) -> int:
    return int(await db.connection.run(lambda raw: getattr(raw, "round_trips")))  # noqa: B009  (PostgreSQL's own)


@pytest.mark.postgresql_only
async def test_held_replies__a_batch_or_one_alone_is_four_round_trips_on_postgresql(
    two: tuple[Database, Database],
) -> None:
    # Given accounts whose replies were stored once already (their rows as they are now, the statements prepared)
    together, _ = two
    authors = [RemoteAuthor(f"https://r.example/users/{n}", f"User {n}", None, None, None) for n in range(5)]

    async def send(replies: list[Reply], first: int) -> list[bool]:
        works = (store_held_reply(together, *reply_work(r, first + n, [])) for n, r in enumerate(replies))
        return list(await asyncio.gather(*works))

    warm = [Reply(f"https://r.example/notes/warm-{n}", authors[n], ("post", "open")) for n in range(5)]
    assert await send(warm, 100) == [True] * 5
    assert await send([Reply("https://r.example/notes/warm-alone", authors[0], ("post", "open"))], 200) == [True]
    # When 20 of their replies come at once (one group commit), then one alone
    many = [Reply(f"https://r.example/notes/many-{n}", authors[n % 5], ("post", "open")) for n in range(20)]
    before = await round_trips(together)
    assert await send(many, 300) == [True] * 20
    batch = await round_trips(together) - before
    before = await round_trips(together)
    assert await send([Reply("https://r.example/notes/alone", authors[1], ("post", "open"))], 400) == [True]
    alone = await round_trips(together) - before
    # Then every one is stored, each commit in four trips to the server: BEGIN with its savepoint, the read, the
    # comments with the inbox records, the savepoint's release with the NOTIFY and the COMMIT (eight, and seven
    # for one alone, before)
    assert len((await what_is_stored(together))["comments"]) == 1 + 5 + 1 + 20 + 1
    assert (batch, alone) == (4, 4)
