"""Atom feeds of comments: /comments/feed.xml for the whole blog, /posts/<slug>/comments.xml for one post."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from fedblog.models import CommentOrigin, CommentStatus, Post, Visibility
from fedblog.services.comments import CommentService
from fedblog.store.comments import NewComment, RemoteAuthor
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, get, publish

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_entries(text: str) -> list[dict[str, str]]:
    root = ET.fromstring(text)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}updated")
    return [
        {
            "id": entry.findtext(f"{ATOM}id", ""),
            "title": entry.findtext(f"{ATOM}title", ""),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name", ""),
            "link": next((link.get("href", "") for link in entry.iter(f"{ATOM}link")), ""),
            "content": entry.findtext(f"{ATOM}content", ""),
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


async def add_remote_comment(site: LiveSite, post: Post, text: str, visibility: Visibility) -> None:
    """An approved fediverse reply with the given audience, stored as the inbox stores one."""
    new = NewComment(
        post_id=post.id,
        parent_id=None,
        author_id=0,
        origin=CommentOrigin.FEDIVERSE,
        status=CommentStatus.APPROVED,
        content_html=f"<p>{text}</p>",
        visibility=visibility,
        remote_id=f"https://remote.example/notes/{visibility.value}",
    )
    alice = RemoteAuthor(
        "https://remote.example/users/alice", "Alice", "@alice@remote.example", None, "https://remote.example/@alice"
    )
    async with site.ctx.db.transaction() as conn:
        await site.ctx.comments.add_comment(conn, new, alice)


async def test_comments_feed__lists_approved_public_comments_newest_first(site: LiveSite) -> None:
    # Given comments on two posts: approved, pending, spam, and fediverse replies of every audience
    walk, cake = await publish(site, "A walk"), await publish(site, "A cake")
    first = await add_comment(site, walk, "First remark", name="Ana", email="ana@example.org")
    await add_comment(site, cake, "Pending words", name="Bob", email="bob@example.org", approve=False)
    spam = await add_comment(site, cake, "Buy pills", name="Spammer", email="ana@example.org")
    await CommentService(site.ctx).mark_spam(spam.id)
    for visibility in (Visibility.UNLISTED, Visibility.FOLLOWERS, Visibility.DIRECT):
        await add_remote_comment(site, walk, f"Hidden {visibility.value}", visibility)
    await add_remote_comment(site, cake, "Public reply", Visibility.PUBLIC)
    last = await add_comment(site, cake, "Latest remark", name="Camille", email="camille@example.org")
    # When a feed reader fetches the comments feed
    page = await get(site, "/comments/feed.xml")
    # Then it is Atom listing only approved public comments, newest first, linking to their anchors
    assert page.status == 200
    assert page.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    entries = feed_entries(page.text)
    assert [entry["author"] for entry in entries] == ["Camille", "Alice", "Ana"]
    assert entries[0]["title"] == "Camille on “A cake”"
    assert entries[0]["link"] == f"{site.url}/posts/a-cake#comment-{last.id}"
    assert entries[-1]["link"] == f"{site.url}/posts/a-walk#comment-{first.id}"
    assert "<p>Latest remark</p>" in entries[0]["content"]
    for hidden in ("Pending words", "Buy pills", "Hidden unlisted", "Hidden followers", "Hidden direct"):
        assert hidden not in page.text
    assert "@example.org" not in page.text  # commenters' emails never leave the site


async def test_comments_feed__content_is_escaped_and_sanitized(site: LiveSite) -> None:
    post = await publish(site, "Post")
    await add_comment(site, post, '<script>alert("x")</script> <b>bold</b>', name="<i>Eve</i>")

    entries = feed_entries((await get(site, "/comments/feed.xml")).text)

    assert entries[0]["author"] == "<i>Eve</i>"  # text, as the reader will show it
    assert "<script" not in entries[0]["content"] and "<b>" not in entries[0]["content"]
    assert "&lt;script&gt;" in entries[0]["content"]


async def test_post_comments_feed__lists_that_posts_comments_only(site: LiveSite) -> None:
    walk, cake = await publish(site, "A walk"), await publish(site, "A cake")
    await add_comment(site, walk, "On the walk", name="Ana")
    await add_comment(site, cake, "On the cake", name="Bob")

    page = await get(site, "/posts/a-walk/comments.xml")

    assert page.status == 200
    root = ET.fromstring(page.text)
    assert root.findtext(f"{ATOM}title") == "Comments on “A walk”"
    assert [entry["content"] for entry in feed_entries(page.text)] == ["<p>On the walk</p>"]


async def test_post_comments_feed__unknown_and_draft_posts_are_not_found(site: LiveSite) -> None:
    await publish(site, "Draft", slug="draft", draft=True)

    assert (await get(site, "/posts/nothing-here/comments.xml")).status == 404
    assert (await get(site, "/posts/draft/comments.xml")).status == 404


async def test_comments_feed__a_new_comment_shows_at_once(site: LiveSite) -> None:
    post = await publish(site, "Post")
    assert feed_entries((await get(site, "/comments/feed.xml")).text) == []
    assert feed_entries((await get(site, "/posts/post/comments.xml")).text) == []

    await add_comment(site, post, "Fresh")

    assert len(feed_entries((await get(site, "/comments/feed.xml")).text)) == 1
    assert len(feed_entries((await get(site, "/posts/post/comments.xml")).text)) == 1


async def test_comments_feed__does_not_take_over_comment_objects(site: LiveSite) -> None:
    post = await publish(site, "Post")
    comment = await add_comment(site, post, "Object")

    feed = await get(site, "/comments/feed.xml")
    comment_object = await get(site, f"/comments/{comment.id}", headers={"Accept": "application/activity+json"})

    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    assert comment_object.status == 200 and json.loads(comment_object.text)["type"] == "Note"


async def test_comments_feeds__advertised_with_rel_alternate(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")

    home, post_page = await get(site, "/"), await get(site, "/posts/post")

    site_link = (
        '<link rel="alternate" type="application/atom+xml" title="Comments on Test blog" '
        f'href="{site.url}/comments/feed.xml">'
    )
    post_link = (
        '<link rel="alternate" type="application/atom+xml" title="Comments on “Post”" '
        f'href="{site.url}/posts/post/comments.xml">'
    )
    assert site_link in home.text and site_link in post_page.text
    assert post_link in post_page.text and post_link not in home.text
