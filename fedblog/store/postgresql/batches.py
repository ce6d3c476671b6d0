"""The inbox's works read and written a batch at a time on PostgreSQL, where each statement is a round trip.

With 32 senders the group commit holds a few dozen held replies, and the read batch as many preflights: one at a
time, a reply was about a dozen round trips (its reads, its writes, its savepoint). Here a run of them costs one
statement per table for the whole run: the arrays of the run's values `unnest`ed, read `WITH ORDINALITY` so each
row comes back to its work. The outcome of each work is the one it has run alone (store/threads.HeldReply,
store/inbox.PreflightRead); anything rare goes to `alone` (an approved reply, whose listeners run their own
statements), and a batch statement that fails (the same Note or activity twice in one batch) undoes the run,
which then runs one work at a time (store/db._batched_in_savepoint).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fedblog.clock import to_text, utcnow
from fedblog.store.actors import KeyStamp
from fedblog.store.batches import Alone, Outcome, Runners
from fedblog.store.blocks import block_marks
from fedblog.store.comments import COMMENT_COLUMNS, NewComment, RemoteAuthor, _comment_params, stored_as_now
from fedblog.store.connection import SyncConnection
from fedblog.store.deliveries import TROUBLED_HOST
from fedblog.store.inbox import PROCESSED, InboxRecord, Preflight, PreflightRead, kept_body
from fedblog.store.threads import HeldReply

# --- the group commit: held replies ---------------------------------------------------------------------------

# Per reply: stored or tombstoned already, its place (a published post by slug, a comment by id, or the comment
# made of a remote object), the post's comment state, the author's row as stored, and whether the author is
# trusted (an approved comment), in the order of the arrays.
_HELD_REPLIES_READ = """
SELECT r.n,
    EXISTS (SELECT 1 FROM comments c WHERE c.remote_id = r.remote_id)
        OR EXISTS (SELECT 1 FROM remote_tombstones t WHERE t.object_id = r.remote_id) AS known,
    place.post_id, place.parent_id, p.id IS NOT NULL AS has_post, p.comments_open, p.published_at,
    a.id AS author_row, a.name, a.handle, a.avatar_url, a.profile_url,
    a.id IS NOT NULL AND EXISTS (
        SELECT 1 FROM comments c WHERE c.author_id = a.id AND c.status = 'approved'
    ) AS trusted
FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[])
    WITH ORDINALITY AS r (remote_id, kind, key, comment_id, actor_id, n)
LEFT JOIN LATERAL (
    SELECT posts.id AS post_id, NULL::bigint AS parent_id FROM posts
        WHERE r.kind = 'post' AND posts.slug = r.key AND posts.draft = 0
    UNION ALL
    SELECT c.post_id, c.id FROM comments c WHERE r.kind = 'comment' AND c.id = r.comment_id
    UNION ALL
    SELECT c.post_id, c.id FROM comments c WHERE r.kind = 'remote' AND c.remote_id = r.key
    LIMIT 1
) place ON true
LEFT JOIN posts p ON p.id = place.post_id
LEFT JOIN comment_authors a ON a.actor_id = r.actor_id
ORDER BY r.n
"""

_UPSERT_AUTHORS = """
INSERT INTO comment_authors (kind, name, actor_id, handle, avatar_url, profile_url, created_at)
SELECT 'remote', name, actor_id, handle, avatar_url, profile_url, created_at
FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
    AS u (name, actor_id, handle, avatar_url, profile_url, created_at)
ON CONFLICT (actor_id) DO UPDATE SET name = excluded.name, handle = excluded.handle,
    avatar_url = excluded.avatar_url, profile_url = excluded.profile_url
RETURNING id, actor_id
"""

# The comments and the inbox records in one statement (one round trip): one array per column of
# store/comments.COMMENT_COLUMNS, in its order (_comment_params), then one per column of store/inbox._SETTLE
# (its statement for many). Either list may be empty.
_STORE_ALL = f"""
WITH stored AS (
    INSERT INTO comments ({COMMENT_COLUMNS})
    SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[],
        ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
        ?::text[], ?::bigint[])
)
INSERT INTO inbox_activities (id, signer_id, actor_id, type, object_id, body, status, error, received_at)
SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
    ?::text[])
ON CONFLICT (id, signer_id) DO UPDATE SET status = excluded.status, error = excluded.error,
    body = excluded.body, locked_by = NULL, locked_until = NULL
"""


@dataclass
class _Writes:
    """What a run of held replies writes, gathered before any of it is sent."""

    authors: dict[str, RemoteAuthor]  # to insert or update, by actor id (the last one of the run wins)
    author_ids: dict[str, int]  # authors whose stored row is as the reply says
    comments: list[tuple[NewComment, str]]  # (the held comment, its author's actor id)
    settled: list[InboxRecord]


def store_held_replies(raw: SyncConnection, works: list[HeldReply], alone: Alone) -> list[Outcome]:
    """A run of HeldReply works: one read, then one write (the comments and the inbox records), and one more
    for the authors not stored as they are now."""
    outcomes: list[Outcome | None] = [None] * len(works)
    later: list[int] = []  # what runs alone, after the batch's writes
    comment_ids: list[int | None] = []
    for work in works:
        kind, key = work.ref
        comment_ids.append(int(key) if kind == "comment" and key.isdigit() else None)
    rows = raw.execute(
        _HELD_REPLIES_READ,
        (
            [work.pending.remote_id or "" for work in works],
            [work.ref[0] for work in works],
            [work.ref[1] for work in works],
            comment_ids,
            [work.author.actor_id for work in works],
        ),
    ).fetchall()
    writes = _Writes({}, {}, [], [])
    for index, (work, row) in enumerate(zip(works, rows, strict=True)):
        if work.ref[0] == "comment" and comment_ids[index] is None:
            later.append(index)  # not one of our ids: as the work alone says it
            continue
        try:
            outcomes[index] = _decided(work, row, writes)
        except _Alone:
            later.append(index)
        except Exception as error:  # the moderation decision raised: nothing of this reply is written
            outcomes[index] = (False, error)
    _write(raw, writes)
    for index in later:
        outcomes[index] = alone(works[index])
    return [outcome if outcome is not None else (False, RuntimeError("not run")) for outcome in outcomes]


class _Alone(Exception):
    """This reply goes the way it goes alone (an approved one: its listeners run statements of their own)."""


def _decided(work: HeldReply, row: Any, writes: _Writes) -> Outcome:
    """What store/threads._store_held_reply_sync would do with these facts, its writes added to `writes`."""
    if not row["known"]:
        if row["post_id"] is None:
            if work.ref[0] == "remote":
                return (True, False)  # an unknown ancestor, to fetch: nothing written
        else:
            comments_state = (bool(row["comments_open"]), str(row["published_at"])) if row["has_post"] else None
            trusted = bool(row["trusted"])
            if not work.holds(lambda: trusted, comments_state):
                if work.published is None:
                    return (True, False)
                raise _Alone
            author = work.author
            stored = (row["name"], row["handle"], row["avatar_url"], row["profile_url"])
            if row["author_row"] is not None and stored_as_now(author, stored):
                writes.author_ids[author.actor_id] = int(row["author_row"])
            else:
                writes.authors[author.actor_id] = author
            placed = replace(work.pending, post_id=int(row["post_id"]), parent_id=row["parent_id"])
            writes.comments.append((placed, author.actor_id))
    writes.settled.append(work.record)
    return (True, True)


def _write(raw: SyncConnection, writes: _Writes) -> None:
    now = to_text(utcnow())
    author_ids = dict(writes.author_ids)
    if writes.authors:
        authors = list(writes.authors.values())
        for row in raw.execute(
            _UPSERT_AUTHORS,
            _columns([(a.name, a.actor_id, a.handle, a.avatar_url, a.profile_url, now) for a in authors], 6),
        ).fetchall():
            author_ids[row["actor_id"]] = int(row["id"])
    if writes.comments or writes.settled:
        comments = [_comment_params(replace(new, author_id=author_ids[actor_id])) for new, actor_id in writes.comments]
        settled = [
            (
                r.activity_id,
                r.signer_id,
                r.actor_id,
                r.kind,
                r.object_id,
                kept_body(r.body, PROCESSED),
                PROCESSED,
                None,
                now,
            )
            for r in writes.settled
        ]
        raw.execute(_STORE_ALL, (*_columns(comments, 18), *_columns(settled, 9)))


def _columns(rows: list[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    """Rows as one list per column: the arrays the statements unnest."""
    return tuple([row[column] for row in rows] for column in range(width))


# --- the read batch: the inbox's preflight --------------------------------------------------------------------

_PREFLIGHT_READ = f"""
WITH marks (n, kind, value) AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[]))
SELECT r.n,
    EXISTS (
        SELECT 1 FROM marks m JOIN blocks b ON b.kind = m.kind AND b.value = m.value WHERE m.n = r.n
    ) AS blocked,
    r.key_host <> '' AND EXISTS (
        SELECT 1 FROM hosts h
        WHERE h.host = r.key_host AND {TROUBLED_HOST}
    ) AS troubled,
    ARRAY(SELECT i.signer_id FROM inbox_activities i WHERE i.id = r.activity_id) AS signers,
    k.id AS key_actor, k.fetched_at, k.public_key_pem
FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS r (key_id, key_host, activity_id, n)
LEFT JOIN LATERAL (
    SELECT a.id, a.fetched_at, a.public_key_pem FROM remote_actors a
    WHERE r.key_id <> '' AND a.public_key_id = r.key_id ORDER BY a.fetched_at DESC LIMIT 1
) k ON true
ORDER BY r.n
"""


def read_preflights(raw: SyncConnection, works: list[PreflightRead], _alone: Alone) -> list[Outcome]:
    """A run of PreflightRead works in one statement."""
    marks: list[tuple[int, str, str]] = []
    for n, work in enumerate(works, start=1):
        actors, domains = block_marks((work.actor_id, work.key_id))
        marks.extend((n, "actor", actor) for actor in actors)
        marks.extend((n, "domain", domain) for domain in domains)
    rows = raw.execute(
        _PREFLIGHT_READ,
        (
            *_columns(marks, 3),
            [work.key_id for work in works],
            [work.key_host for work in works],
            [work.activity_id for work in works],
        ),
    ).fetchall()
    return [
        (True, Preflight(
            blocked=bool(row["blocked"]),
            troubled=bool(row["troubled"]),
            signers=frozenset(row["signers"]),
            key=KeyStamp(row["key_actor"], row["fetched_at"], row["public_key_pem"])
            if work.key_id and row["key_actor"] is not None else None,
        ))
        for work, row in zip(works, rows, strict=True)
    ]  # fmt: skip


RUNNERS_WRITE: Runners = {HeldReply: store_held_replies}
RUNNERS_READ: Runners = {PreflightRead: read_preflights}
