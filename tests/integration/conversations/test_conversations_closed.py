"""A fediverse reply to a post whose comments are closed is held for the author, not published and not lost."""

from __future__ import annotations

from fedblog.models import CommentStatus
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.integration.blog_support import close_comments, get, publish


async def test_closed_post__a_fediverse_reply_is_held_for_the_author(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a blog whose moderation is open, and a post whose comments are closed
    post = await publish(open_site, "Closed talk", slug="closed")
    await close_comments(open_site, "closed")
    # When a fediverse account replies to it anyway (Mastodon knows nothing of closing)
    note = remote.note("alice", open_site.ctx.urls.note(post.slug), "<p>Replying after closing</p>")
    assert await remote.send("alice", remote.create("alice", note)) == 202
    # Then nothing is lost: the reply waits in the moderation queue, and the page does not show it
    held = await open_site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert held is not None and held.status == CommentStatus.PENDING
    assert "Replying after closing" not in (await get(open_site, "/posts/closed")).text
    # And on an open post of the same blog a reply is published at once
    other = await publish(open_site, "Open talk", slug="open")
    shown = remote.note("alice", open_site.ctx.urls.note(other.slug), "<p>Replying while open</p>")
    await remote.send("alice", remote.create("alice", shown))
    assert "Replying while open" in (await get(open_site, "/posts/open")).text
