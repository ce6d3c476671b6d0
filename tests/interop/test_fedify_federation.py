"""Issue 4 against a real Fedify peer: discovery by handle, follow and Accept, posts delivered as verified Notes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from fedblog.services.followers import FollowerService
from fedblog.services.integrity import with_proof
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests.helpers import eventually
from tests.interop.conftest import HttpsBlog, HttpsBlogFactory, deliver, follow_blog
from tests.interop.peer_process import PeerError, PeerProcess

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _inbox_posts(state: dict, blog: HttpsBlog) -> list[dict]:
    inboxes = {blog.ctx.urls.inbox(), blog.ctx.urls.shared_inbox()}
    return [r for r in state["outgoing"] if r["method"] == "POST" and r["url"] in inboxes]


async def test_webfinger__fedify_finds_the_blog_actor_by_handle_with_its_key(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    urls = blog.ctx.urls

    actor = await peer.lookup(blog.handle)

    assert actor["id"] == urls.actor()
    assert actor["type"] in ("Person", "Service", "Application")
    assert actor["preferredUsername"] == "author"
    assert actor["inbox"] == urls.inbox()
    assert actor["sharedInbox"] == urls.shared_inbox()
    assert actor["publicKeys"] == [{"id": urls.key_id(), "owner": urls.actor(), "algorithm": "RSASSA-PKCS1-v1_5"}]
    # The acct: form and the actor URL reach the same actor.
    assert (await peer.lookup(f"acct:{blog.handle.removeprefix('@')}"))["id"] == urls.actor()
    assert (await peer.lookup(urls.actor()))["id"] == urls.actor()


async def test_follow__blog_stores_the_follower_and_fedify_verifies_the_accept(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    sent = await follow_blog(peer, blog)

    state = await peer.state()
    assert state["following"][blog.actor] == {"followId": sent["followId"], "accepted": True, "rejected": False}
    follower = await FollowerStore(blog.ctx.db).get(peer.actor)
    assert follower is not None
    assert follower.status == "accepted"
    assert follower.inbox == f"{peer.origin}/users/alice/inbox"
    assert follower.shared_inbox == f"{peer.origin}/inbox"
    assert follower.name == "Alice Peer"
    assert follower.follow_activity_id == sent["followId"]


async def test_follow__works_when_the_blog_terminates_tls_itself(
    peer: PeerProcess, https_blog_factory: HttpsBlogFactory
) -> None:
    blog = await https_blog_factory(proxied=False)

    await follow_blog(peer, blog)

    assert (await FollowerStore(blog.ctx.db).get(peer.actor)) is not None


async def test_follow__rfc9421_first_knock_is_verified_or_refused_with_401(peer: PeerProcess, blog: HttpsBlog) -> None:
    """Fedify signs RFC 9421 first and falls back to draft-cavage only after a 4xx: the blog must answer 401."""
    await follow_blog(peer, blog)

    attempts = _inbox_posts(await peer.state(), blog)
    assert attempts, "the peer never POSTed to the blog's inbox"
    first = attempts[0]
    assert first["scheme"] == "rfc9421"
    if first["status"] not in (200, 202):
        assert first["status"] == 401, f"a signature the blog cannot verify must get 401, got {attempts}"
        assert attempts[1]["scheme"] == "cavage"
        assert attempts[1]["status"] in (200, 202), attempts
    # Fedify remembers what worked for this server: later activities are accepted at the first attempt.
    await peer.unfollow(blog.handle)
    later = _inbox_posts(await peer.state(), blog)[len(attempts) :]
    assert [a["status"] for a in later] in ([202], [200]), later


async def test_unfollow__undo_follow_removes_the_follower(peer: PeerProcess, blog: HttpsBlog) -> None:
    await follow_blog(peer, blog)

    await peer.unfollow(blog.handle)

    assert (await FollowerStore(blog.ctx.db).get(peer.actor)) is None


async def test_publish__fedify_receives_a_verified_create_note(peer: PeerProcess, blog: HttpsBlog) -> None:
    await follow_blog(peer, blog)
    urls = blog.ctx.urls

    post = await PostService(blog.ctx).publish(
        PostInput(
            title="Hello fediverse",
            body_markdown="A first post with **bold** words.",
            tags=("fediverse", "Python"),
        )
    )

    create = await peer.wait_for_activity(
        lambda a: a["type"] == "Create" and a["objectId"] == urls.note(post.slug),
        "the Create(Note) of the new post",
        tick=lambda: deliver(blog),
    )
    assert create["verified"] is True
    assert create["actor"] == urls.actor()
    note = create["parsed"]
    assert note["type"] == "Note"
    assert note["id"] == urls.note(post.slug)
    assert note["attributedTo"] == urls.actor()
    assert note["url"] == urls.post(post.slug)
    assert f'href="{urls.post(post.slug)}"' in note["content"]
    assert "Hello fediverse" in note["content"]
    assert "<strong>bold</strong>" in note["content"]
    assert note["to"] == [PUBLIC]
    assert urls.followers() in note["cc"]
    hashtags = {(t["name"], t["href"]) for t in note["tags"] if t["type"] == "Hashtag"}
    assert hashtags == {("#fediverse", urls.tag("fediverse")), ("#Python", urls.tag("Python"))}
    # Delivered to the shared inbox, signed with RFC 9421 first (double-knock): Fedify verifies it, so no
    # draft-cavage retry was needed.
    assert create["recipient"] is None
    assert create["scheme"] == "rfc9421"


async def test_edit_and_delete__reach_fedify_as_update_then_delete(peer: PeerProcess, blog: HttpsBlog) -> None:
    await follow_blog(peer, blog)
    urls = blog.ctx.urls
    service = PostService(blog.ctx)
    post = await service.publish(PostInput(title="Draft thoughts", body_markdown="First version."))
    note_id = urls.note(post.slug)
    await peer.wait_for_activity(
        lambda a: a["type"] == "Create" and a["objectId"] == note_id, "the Create", tick=lambda: deliver(blog)
    )

    await service.edit(post.slug, PostInput(title="Draft thoughts", body_markdown="Second, better version."))

    update = await peer.wait_for_activity(
        lambda a: a["type"] == "Update" and a["objectId"] == note_id, "the Update", tick=lambda: deliver(blog)
    )
    assert update["verified"] is True
    assert "Second, better version." in update["parsed"]["content"]
    assert update["parsed"]["updated"] is not None

    await service.delete(post.slug)

    delete = await peer.wait_for_activity(
        lambda a: a["type"] == "Delete" and a["objectId"] == note_id, "the Delete", tick=lambda: deliver(blog)
    )
    assert delete["verified"] is True
    assert delete["actor"] == urls.actor()
    # The post's URL now answers as gone, for servers that fetch it again.
    status, _ = await blog.get(f"/posts/{post.slug}", accept="application/activity+json")
    assert status == 410


async def test_collections__fedify_walks_the_outbox_and_reads_the_note_at_the_post_url(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    urls = blog.ctx.urls
    service = PostService(blog.ctx)
    posts = [await service.publish(PostInput(title=f"Entry {n}", body_markdown=f"Body {n}.")) for n in (1, 2)]
    await follow_blog(peer, blog)

    outbox = await peer.traverse(urls.outbox())

    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 2
    assert {(item["type"], item["objectId"]) for item in outbox["items"]} == {
        ("Create", urls.note(post.slug)) for post in posts
    }
    followers = await peer.traverse(urls.followers())
    assert followers["totalItems"] == 1
    # The post's web address answers ActivityPub clients with the Note itself, under the same id.
    note = await peer.lookup(urls.post(posts[0].slug))
    assert note["type"] == "Note"
    assert note["id"] == urls.note(posts[0].slug)
    assert "Body 1." in note["object"]["content"]


async def test_authorized_fetch__fedify_signed_get_is_served_and_unsigned_refused(
    peer: PeerProcess, https_blog_factory: HttpsBlogFactory
) -> None:
    blog = await https_blog_factory(overrides={"federation": {"authorized_fetch": True}})
    urls = blog.ctx.urls
    post = await PostService(blog.ctx).publish(PostInput(title="Members only?", body_markdown="Signed readers."))

    # Fedify fetches the blog's key without signing to verify the Accept: the actor stays public.
    await follow_blog(peer, blog)

    signed = await peer.lookup(urls.note(post.slug), signed=True)
    assert signed["type"] == "Note"
    assert "Signed readers." in signed["object"]["content"]
    with pytest.raises(PeerError, match=r"-> 401"):
        await peer.lookup(urls.note(post.slug))


async def test_manual_approval__fedify_waits_then_gets_the_authors_accept_or_reject(
    peer: PeerProcess, https_blog_factory: HttpsBlogFactory
) -> None:
    blog = await https_blog_factory(overrides={"federation": {"manually_approves_followers": True}})
    assert (await peer.lookup(blog.handle))["json"].get("manuallyApprovesFollowers") is True

    sent = await peer.follow(blog.handle)

    followers = FollowerService(blog.ctx)
    pending = await eventually(lambda: FollowerStore(blog.ctx.db).get(peer.actor), "the follow request was not stored")
    assert pending.status == "pending"
    await deliver(blog)
    assert (await peer.state())["following"][blog.actor]["accepted"] is False

    await followers.approve(peer.actor)

    await peer.wait_for_activity(
        lambda a: a["type"] == "Accept" and a["actor"] == blog.actor and a["objectId"] == sent["followId"],
        "the Accept sent when the author approved",
        tick=lambda: deliver(blog),
    )
    assert (await peer.state())["following"][blog.actor]["accepted"] is True

    # Following again and being turned down: the peer gets a verified Reject.
    await peer.unfollow(blog.handle)
    again = await peer.follow(blog.handle)
    await eventually(lambda: FollowerStore(blog.ctx.db).get(peer.actor), "the second follow request was not stored")
    await followers.reject(peer.actor)
    await peer.wait_for_activity(
        lambda a: a["type"] == "Reject" and a["actor"] == blog.actor and a["objectId"] == again["followId"],
        "the Reject sent when the author declined",
        tick=lambda: deliver(blog),
    )
    assert (await peer.state())["following"][blog.actor]["rejected"] is True
    assert (await FollowerStore(blog.ctx.db).get(peer.actor)) is None


async def test_integrity_proof__fedify_accepts_an_unsigned_activity_on_the_strength_of_its_proof(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    """FEP-8b32: the blog's eddsa-jcs-2022 proof, checked by Fedify with the Multikey in the actor's assertionMethod,
    is enough without an HTTP signature; the same activity altered after signing is refused."""
    urls = blog.ctx.urls
    actor = (await peer.lookup(urls.actor()))["json"]
    assert [key["type"] for key in actor["assertionMethod"]] == ["Multikey"]

    def create(text: str) -> dict[str, Any]:
        note_id = f"{urls.base}/comments/{abs(hash(text))}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": urls.actor(),
            "to": [PUBLIC],
            "object": {"id": note_id, "type": "Note", "attributedTo": urls.actor(), "content": text, "to": [PUBLIC]},
        }
        return with_proof(blog.ctx, activity, datetime.now(UTC))

    genuine = create("<p>proved, not signed</p>")
    tampered = create("<p>proved, then altered</p>")
    tampered["object"]["content"] = "<p>ALTERED</p>"

    async with aiohttp.ClientSession() as session:
        for activity in (genuine, tampered):
            async with session.post(
                f"{peer.origin}/inbox", data=json.dumps(activity), headers={"Content-Type": "application/activity+json"}
            ) as response:
                activity["status"] = response.status

    assert genuine["status"] == 202, genuine["status"]
    assert tampered["status"] >= 400
    received = {entry["id"]: entry for entry in (await peer.state())["inbox"]}
    assert received[genuine["id"]]["parsed"]["content"] == "<p>proved, not signed</p>"
    assert tampered["id"] not in received
