"""Fediverse replies become comments: signed activities shaped like Mastodon 4's, POSTed to the real inbox, and
what the post page (or the admin) then shows."""

from __future__ import annotations

import asyncio

from fedblog.models import CommentStatus
from fedblog.protocol.activitystreams import PUBLIC
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.inbox import wait_for_processing
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import log_in, page, publish, thread_parents
from tests.integration.blog_support import get


async def test_reply_to_post__shows_the_comment_with_its_remote_author(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    remote.profiles["alice"] = {"name": "Alice Lectrice", "icon": f"{remote.base}/avatars/alice.png"}
    post = await publish(open_site)
    activity = remote.sample("create-note-reply", "alice", post)
    activity.pop("signature")

    assert await remote.send("alice", activity) == 202

    html = await page(open_site, post)
    assert "Merci pour cet article" in html
    assert "Alice Lectrice" in html
    assert "@alice@127.0.0.1" in html
    comment = await open_site.ctx.comments.get_comment_by_remote_id(activity["object"]["id"])
    assert comment is not None
    assert f'src="{open_site.url}/faces/remote/{comment.author.id}"' in html  # served by the blog, not hotlinked
    assert f"{remote.base}/avatars/alice.png" not in html
    assert f'href="{remote.base}/@alice"' in html  # the profile link
    assert 'lang="fr"' in html
    comment = await open_site.ctx.comments.get_comment_by_remote_id(activity["object"]["id"])
    assert comment is not None and comment.parent_id is None and comment.origin.value == "fediverse"


async def test_reply_to_post__first_time_author_is_held_then_trusted(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory()  # default policy: first_time
    remote.site = site
    post = await publish(site)
    first = remote.note("alice", site.ctx.urls.note(post.slug), "<p>First words</p>")
    await remote.send("alice", remote.create("alice", first))
    assert "First words" not in await page(site, post)
    held = await site.ctx.comments.get_comment_by_remote_id(first["id"])
    assert held is not None and held.status == CommentStatus.PENDING
    queue = await site.ctx.comments.list_by_status(CommentStatus.PENDING)
    assert [c.id for c in queue] == [held.id]  # the same queue as web comments

    await CommentService(site.ctx).approve(held.id)
    second = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Second words</p>")
    await remote.send("alice", remote.create("alice", second))

    html = await page(site, post)
    assert "First words" in html and "Second words" in html


async def test_held_reply__sent_twice_at_once_is_stored_and_recorded_once(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory()  # first_time: held, so the reply and its inbox record share one commit
    remote.site = site
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Said twice</p>")
    create = remote.create("alice", note)
    resent = {**create, "cc": [*create["cc"], PUBLIC]}  # the same activity id, other bytes: another signature

    statuses = await asyncio.gather(remote.send("alice", create, wait=False), remote.send("alice", resent))
    await wait_for_processing(site.ctx)

    assert statuses == [202, 202]
    queue = await site.ctx.comments.list_by_status(CommentStatus.PENDING)
    assert [c.remote_id for c in queue] == [note["id"]]
    records = await site.ctx.db.fetch_all("SELECT status FROM inbox_activities WHERE id = ?", (create["id"],))
    assert [row["status"] for row in records] == ["processed"]


async def test_reply_to_a_reply__is_nested_under_it(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    first = remote.note("alice", open_site.ctx.urls.note(post.slug), "<p>Top reply</p>")
    await remote.send("alice", remote.create("alice", first))
    second = remote.note("bob", first["id"], "<p>Answer to Alice</p>")
    await remote.send("bob", remote.create("bob", second))

    parent = await open_site.ctx.comments.get_comment_by_remote_id(first["id"])
    child = await open_site.ctx.comments.get_comment_by_remote_id(second["id"])
    assert parent is not None and child is not None
    assert thread_parents(await page(open_site, post)) == {parent.id: None, child.id: parent.id}


async def test_reply_to_a_web_comment__is_nested_under_it(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    form = CommentForm(name="Vera", email="vera@example.org", message="A web comment")
    web_comment = (await CommentService(open_site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert web_comment is not None
    note = remote.note("alice", open_site.ctx.urls.comment_object(web_comment.id), "<p>Replying to Vera</p>")
    await remote.send("alice", remote.create("alice", note))

    reply = await open_site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert reply is not None
    assert thread_parents(await page(open_site, post)) == {web_comment.id: None, reply.id: web_comment.id}


async def test_reply_with_content_warning__is_collapsed_under_its_summary(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    note = remote.note(
        "alice", open_site.ctx.urls.note(post.slug), "<p>The butler did it</p>", summary="Spoilers!", sensitive=True
    )
    await remote.send("alice", remote.create("alice", note))

    html = await page(open_site, post)
    details = html[html.index('<details class="content-warning">') :]
    assert (
        details.index("<summary>Spoilers!</summary>") < details.index("The butler did it") < details.index("</details>")
    )


async def test_reply_with_mention_and_image__shows_both(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    activity = remote.sample("create-note-reply", "alice", post)  # a mention of the blog, a hashtag, an image
    activity.pop("signature")
    await remote.send("alice", activity)

    html = await page(open_site, post)
    assert 'class="u-url mention" rel="nofollow ugc noopener"' in html
    assert 'class="mention hashtag" rel="nofollow ugc noopener"' in html
    image = "https://files.mastodon.example/media_attachments/files/113/456/789/012/345/678/original/3f1c2b.jpg"
    assert f'<img src="{image}" alt="Capture d&#39;écran de l&#39;article"' in html


async def test_followers_only_reply__is_not_public_but_in_the_admin_mentions(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    note = remote.note(
        "alice",
        open_site.ctx.urls.note(post.slug),
        "<p>Just between us</p>",
        to=[f"{remote.actor_id('alice')}/followers"],
        cc=[open_site.ctx.urls.actor()],
    )
    await remote.send("alice", remote.create("alice", note))

    assert "Just between us" not in await page(open_site, post)
    from tests.integration.blog_support import new_session

    async with new_session() as session:
        assert (await log_in(open_site, session)).status == 303
        mentions = await get(open_site, "/admin/mentions", session)
    assert mentions.status == 200
    assert "Just between us" in mentions.text
    assert "followers only" in mentions.text


async def test_direct_reply__is_not_public(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    note = remote.note(
        "alice", open_site.ctx.urls.note(post.slug), "<p>Psst</p>", to=[open_site.ctx.urls.actor()], cc=[]
    )
    await remote.send("alice", remote.create("alice", note))
    assert "Psst" not in await page(open_site, post)
    status, _, _ = await _get_status(open_site, "/posts/" + post.slug + "/replies?page=1")
    assert status == 200


async def _get_status(site: LiveSite, path: str) -> tuple[int, str, str]:
    from tests.integration.fed_support import fetch

    status, headers, text = await fetch(site.url + path)
    return status, headers.get("Content-Type", ""), text


async def test_update__edits_the_comment_and_marks_it_edited(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    create = remote.sample("create-note-reply", "alice", post)
    create.pop("signature")
    await remote.send("alice", create)
    update = remote.sample("update-note", "alice", post)
    update.pop("signature")

    await remote.send("alice", update)

    html = await page(open_site, post)
    assert "(corrigé)" in html
    assert "Une question sur" not in html
    assert 'class="edited"' in html
    assert "<summary>spoilers: fin de l&#39;article</summary>" in html


async def test_delete__removes_the_comment(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    create = remote.sample("create-note-reply", "alice", post)
    create.pop("signature")
    await remote.send("alice", create)
    delete = remote.sample("delete-note-tombstone", "alice", post)
    delete.pop("signature")

    await remote.send("alice", delete)

    assert "Merci pour cet article" not in await page(open_site, post)
    assert await open_site.ctx.comments.get_comment_by_remote_id(create["object"]["id"]) is None


async def test_delete_before_create__the_late_create_stores_nothing(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    delete = remote.sample("delete-note-tombstone", "alice", post)
    delete.pop("signature")
    await remote.send("alice", delete)
    create = remote.sample("create-note-reply", "alice", post)
    create.pop("signature")

    await remote.send("alice", create)

    assert "Merci pour cet article" not in await page(open_site, post)
    assert await open_site.ctx.comments.get_comment_by_remote_id(create["object"]["id"]) is None


async def test_duplicate_create__makes_one_comment(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    create = remote.sample("create-note-reply", "alice", post)
    create.pop("signature")
    await remote.send("alice", create)
    await remote.send("alice", create)  # the same activity id
    create["id"] += "-again"
    await remote.send("alice", create)  # a new activity carrying the same Note

    html = await page(open_site, post)
    assert html.count("Merci pour cet article") == 1


async def test_delete_of_the_actor__removes_their_comments_and_follow(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base}/6d2c1f0e-follow",
        "type": "Follow",
        "actor": remote.actor_id("alice"),
        "object": open_site.ctx.urls.actor(),
    }
    await remote.send("alice", follow)
    for text in ("<p>One</p>", "<p>Two</p>"):
        await remote.send(
            "alice", remote.create("alice", remote.note("alice", open_site.ctx.urls.note(post.slug), text))
        )
    await remote.send("bob", remote.create("bob", remote.note("bob", open_site.ctx.urls.note(post.slug), "<p>Bob</p>")))
    from fedblog.store.followers import FollowerStore

    assert await FollowerStore(open_site.ctx.db).get(remote.actor_id("alice")) is not None
    delete = remote.sample("delete-actor", "alice")
    delete.pop("signature")

    await remote.send("alice", delete)

    html = await page(open_site, post)
    assert "<p>One</p>" not in html and "<p>Two</p>" not in html
    assert "<p>Bob</p>" in html
    assert await FollowerStore(open_site.ctx.db).get(remote.actor_id("alice")) is None


async def test_reply_to_unknown_parent__fetches_the_chain_up_to_the_post(
    open_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(open_site)
    # Carol answered the post and Dave answered Carol, but only Erin's reply to Dave reaches the blog.
    carol = remote.note("carol", open_site.ctx.urls.note(post.slug), "<p>Carol starts</p>")
    dave = remote.note("dave", carol["id"], "<p>Dave follows</p>")
    erin = remote.note("erin", dave["id"], "<p>Erin ends</p>")

    await remote.send("erin", remote.create("erin", erin))

    ids = {}
    for name, note in (("carol", carol), ("dave", dave), ("erin", erin)):
        comment = await open_site.ctx.comments.get_comment_by_remote_id(note["id"])
        assert comment is not None, name
        ids[name] = comment.id
    assert thread_parents(await page(open_site, post)) == {
        ids["carol"]: None,
        ids["dave"]: ids["carol"],
        ids["erin"]: ids["dave"],
    }


async def test_reply_chain_that_never_reaches_the_blog__is_dropped(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    elsewhere = remote.note("carol", f"{remote.base}/users/zed/statuses/1", "<p>Not about the blog</p>")
    reply = remote.note("dave", elsewhere["id"], "<p>Still not about it</p>")
    await remote.send("dave", remote.create("dave", reply))

    assert await open_site.ctx.comments.get_comment_by_remote_id(reply["id"]) is None
    assert await open_site.ctx.comments.get_comment_by_remote_id(elsewhere["id"]) is None
    assert "Still not about it" not in await page(open_site, post)


async def test_in_reply_to_cycle__changes_nothing(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    first_id, second_id = remote.next_note_id("carol"), remote.next_note_id("dave")
    remote.note("carol", second_id, "<p>Cycle A</p>", note_id=first_id)
    second = remote.note("dave", first_id, "<p>Cycle B</p>", note_id=second_id)

    await remote.send("dave", remote.create("dave", second))

    assert await open_site.ctx.comments.get_comment_by_remote_id(first_id) is None
    assert await open_site.ctx.comments.get_comment_by_remote_id(second_id) is None
    assert len(remote.fetched) <= 2
    assert "Cycle" not in await page(open_site, post)


async def test_reply_as_public_unlisted__is_shown(open_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(open_site)
    note = remote.note(
        "alice",
        open_site.ctx.urls.note(post.slug),
        "<p>Quiet but public</p>",
        to=[f"{remote.actor_id('alice')}/followers"],
        cc=[PUBLIC],
    )
    await remote.send("alice", remote.create("alice", note))
    assert "Quiet but public" in await page(open_site, post)
