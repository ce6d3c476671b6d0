"""A remote author's row (store/comments.author_row_sync): found as it is, written only when the author changed."""

from __future__ import annotations

from functools import partial

from fedblog.store.comments import RemoteAuthor, author_row_sync
from tests.conftest import LiveSite

ALICE = RemoteAuthor("https://remote.example/users/alice", "Alice", "@alice@remote.example", None,
                     "https://remote.example/@alice")  # fmt: skip


async def author_row(site: LiveSite, author: RemoteAuthor) -> int:
    return await site.ctx.db.run_transaction(partial(author_row_sync, author=author))


async def stored(site: LiveSite, author_id: int) -> tuple[str, str | None, str | None, str | None]:
    row = await site.ctx.db.fetch_one(
        "SELECT name, handle, avatar_url, profile_url FROM comment_authors WHERE id = ?", (author_id,)
    )
    assert row is not None
    return row[0], row[1], row[2], row[3]


async def test_remote_author__same_row_for_each_reply_and_its_changes_kept(site: LiveSite) -> None:
    # Given an author whose row was made by a first reply
    first = await author_row(site, ALICE)
    # When the same author comes again, unchanged, then with a new name and avatar
    again = await author_row(site, ALICE)
    renamed = RemoteAuthor(ALICE.actor_id, "Alice B.", ALICE.handle, "https://remote.example/a.png", ALICE.profile_url)
    after_rename = await author_row(site, renamed)
    # Then it is one row, and it shows what the author is now
    assert first == again == after_rename
    assert await stored(site, first) == ("Alice B.", "@alice@remote.example", "https://remote.example/a.png",
                                         "https://remote.example/@alice")  # fmt: skip
    assert await site.ctx.db.fetch_value("SELECT COUNT(*) FROM comment_authors WHERE actor_id = ?",
                                         (ALICE.actor_id,)) == 1  # fmt: skip
