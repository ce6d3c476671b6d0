"""Replies published as they arrive (moderation open, or a trusted author under first_time) take the inbox's
one-trip path too: comment, inbox record and the listeners' work (the backfill crawl queued) in the group
commit, so that replies arriving together share transactions instead of one commit each."""

from __future__ import annotations

import asyncio

from fedblog.models import CommentStatus
from fedblog.store.backfill import BackfillStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish

NAMES = ("alice", "bob", "carol", "dave")


def transactions_adding_comments(statements: list[str]) -> int:
    """How many of the traced transactions inserted a comment."""
    count, adding = 0, False
    for sql in statements:
        text = sql.lstrip().upper()
        if text.startswith("INSERT INTO COMMENTS"):
            adding = True
        elif text.startswith(("COMMIT", "ROLLBACK")) and not text.startswith("ROLLBACK TO"):
            count, adding = count + adding, False
    return count


async def test_published_replies_arriving_together__share_commits_each_shown_with_its_crawl_queued(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    target = open_site.ctx.urls.note(post.slug)
    for name in NAMES:  # each account's key known first, as a post's regulars are
        assert (
            await remote.send(name, remote.create(name, remote.note(name, target, f"<p>First from {name}</p>"))) == 202
        )
    notes = [remote.note(NAMES[n % 4], target, f"<p>Reply number {n}</p>") for n in range(24)]
    statements: list[str] = []
    connection = open_site.ctx.db.connection
    await connection.set_trace_callback(statements.append)
    try:
        # When 24 replies arrive at once
        answers = await asyncio.gather(*(remote.send(NAMES[n % 4], remote.create(NAMES[n % 4], note), wait=False)
                                         for n, note in enumerate(notes)))  # fmt: skip
    finally:
        await connection.set_trace_callback(None)
    # Then each is answered 202, published on the page, and has its sub-thread crawl queued
    assert answers == [202] * 24
    html = await page(open_site, post)
    backfill = BackfillStore(open_site.ctx.db)
    for n, note in enumerate(notes):
        comment = await open_site.ctx.comments.get_comment_by_remote_id(note["id"])
        assert comment is not None and comment.status == CommentStatus.APPROVED
        assert f"Reply number {n}<" in html
        assert await backfill.job_state(comment.id) is not None
    # And they were committed together: fewer transactions than replies (one each before)
    assert 1 <= transactions_adding_comments(statements) < 24
