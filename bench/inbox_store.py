"""The store's part of the inbox: replies written through the group commit as the inbox writes them
(store/threads.store_held_reply: checks, place, author, comment and the inbox record in one trip), 32 at once, on
a real fedblog database file. Server CPU per reply (every thread of this process) and each reply's wait for its
commit (p50, p99), without HTTP, signatures or the event loop's other work.

`python -m bench.inbox_store [--replies 5000] [--published]`; pin it to one core as the server is
(`taskset -c 0`) to compare two versions of the store. --published: the replies are published (approved) as they
arrive instead of held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.actors import PUBLIC
from fedblog.clock import to_text, utcnow
from fedblog.models import CommentOrigin, CommentStatus
from fedblog.store import threads
from fedblog.store.comments import NewComment, RemoteAuthor
from fedblog.store.db import Database
from fedblog.store.inbox import InboxRecord

CONCURRENCY = 32
ACTORS = 200
# Mastodon's @context on every activity it sends: most of a reply's bytes.
MASTODON_CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    {
        "ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri", "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation", "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount", "blurhash": "toot:blurhash", "focalPoint": {"@container": "@list",
        "@id": "toot:focalPoint"}, "Hashtag": "as:Hashtag", "Emoji": "toot:Emoji", "featured": {"@id":
        "toot:featured", "@type": "@id"}, "discoverable": "toot:discoverable", "indexable": "toot:indexable",
        "memorial": "toot:memorial", "quoteUri": "toot:quoteUri", "quote": {"@id": "https://w3id.org/fep/044f#quote",
        "@type": "@id"}, "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
        "gts": "https://gotosocial.org/ns#",
    },
]  # fmt: skip


async def make_site(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO posts (slug, title, body_markdown, body_html, summary, language, draft, published_at, "
            "created_at) VALUES ('hello', 'Hello', 'Body', '<p>Body</p>', '', 'en', 0, '2026-01-01T00:00:00Z', "
            "'2026-01-01T00:00:00Z')"
        )


def reply(number: int) -> tuple[NewComment, RemoteAuthor, InboxRecord]:
    actor = f"http://127.20.0.{number % 20 + 1}/users/user{number % ACTORS}"
    status = f"{actor}/statuses/{number}"
    content = f"<p>Reply number {number}: thanks, this was <em>useful</em>.</p>"
    url, published = f"{actor}/{number}", to_text(utcnow())
    note: dict[str, object] = {
        "id": status, "type": "Note", "summary": None, "inReplyTo": "http://blog.example/posts/hello",
        "published": published, "url": url, "attributedTo": actor, "to": [PUBLIC],
        "cc": [f"{actor}/followers", "http://blog.example/actor"], "sensitive": False, "content": content,
        "contentMap": {"en": content}, "tag": [{"type": "Mention", "href": "http://blog.example/actor",
        "name": "@blog"}], "attachment": [],
    }  # fmt: skip
    activity = {"@context": MASTODON_CONTEXT, "id": f"{status}/activity", "type": "Create", "actor": actor,
                "published": note["published"], "to": note["to"], "cc": note["cc"], "object": note}  # fmt: skip
    pending = NewComment(
        post_id=0, parent_id=None, author_id=0, origin=CommentOrigin.FEDIVERSE, status=CommentStatus.PENDING,
        content_html=content, remote_id=status, remote_url=url, created_at=published,
    )  # fmt: skip
    author = RemoteAuthor(actor, f"User {number % ACTORS}", f"@user{number % ACTORS}@127.20.0.1", None, actor)
    record = InboxRecord(f"{status}/activity", actor, actor, "Create", status, json.dumps(activity))
    return pending, author, record


async def run(path: Path, replies: int, published: bool) -> dict[str, float]:
    db = await Database.open(path)
    try:
        await make_site(db)
        work = [reply(n) for n in range(replies)]
        waits: list[float] = []

        def holds(trusted: object, state: object) -> bool:
            return not published

        def publish(raw: object, comment_id: int, new: NewComment) -> None:
            return None  # what the listeners add is theirs, not the store's

        async def sender() -> None:
            while work:
                pending, author, record = work.pop()
                began = time.perf_counter()
                stored = await threads.store_held_reply(db, ("post", "hello"), pending, author, record, holds, publish)
                waits.append(time.perf_counter() - began)
                assert stored

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        count = await db.fetch_value("SELECT COUNT(*) FROM comments")
        assert count == replies, count
        waits.sort()
        return {
            "replies/s": replies / wall,
            "CPU per reply (ms)": cpu * 1000 / replies,
            "commit wait p50 (ms)": statistics.median(waits) * 1000,
            "commit wait p99 (ms)": waits[int(len(waits) * 0.99) - 1] * 1000,
        }
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--published", action="store_true")
    args = parser.parse_args()
    rounds: list[dict[str, float]] = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            rounds.append(asyncio.run(run(Path(folder) / "inbox.sqlite3", args.replies, args.published)))
    kind = "published" if args.published else "held"
    print(f"{args.replies:,} {kind} replies, {CONCURRENCY} at once, median of {args.rounds} rounds")
    for name in rounds[0]:
        print(f"{name:<22} {statistics.median(r[name] for r in rounds):>10.3f}")


if __name__ == "__main__":
    main()
