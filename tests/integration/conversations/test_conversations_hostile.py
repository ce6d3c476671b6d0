"""Hostile input: markup that never reaches the page, forged attribution and edits that change nothing, blocks."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedblog.protocol.integrity import add_proof, multikey_document
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import page, publish


async def test_hostile_content__scripts_javascript_links_and_handlers_never_reach_the_page(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    content = (
        "<p>Hello<script>alert('owned')</script>"
        '<a href="javascript:alert(1)">click</a>'
        '<img src="x" onerror="alert(2)">'
        '<span onmouseover="alert(3)">hover</span></p>'
    )
    note = remote.note(
        "alice",
        site.ctx.urls.note(post.slug),
        content,
        summary="<b>CW</b><script>alert(4)</script>",
        attachment=[{"type": "Document", "mediaType": "image/png", "url": "javascript:alert(5)", "name": "x"}],
    )
    await remote.send("alice", remote.create("alice", note))

    html = await page(site, post)
    assert "Hello" in html and "click" in html and "hover" in html  # the comment is there…
    for bad in ("alert(", "javascript:", "onerror", "onmouseover", "<script>alert"):
        assert bad not in html  # …without anything that runs


async def test_hostile_display_name__is_shown_as_text(site: LiveSite, remote: RemoteInstance) -> None:
    remote.profiles["alice"] = {"name": '<img src=x onerror="alert(1)"><b>Alice</b>\u202e'}
    post = await publish(site)
    await remote.send("alice", remote.create("alice", remote.note("alice", site.ctx.urls.note(post.slug), "<p>Hi</p>")))

    html = await page(site, post)
    assert "<p>Hi</p>" in html
    assert "onerror" not in html and "<b>Alice</b>" not in html and "\u202e" not in html
    assert ">Alice</a>" in html


async def test_note_attributed_to_someone_else__changes_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    # Mallory signs a Create of a Note claiming to be Bob's (on Mallory's own server: no such Note exists).
    forged = remote.note("bob", site.ctx.urls.note(post.slug), "<p>Bob never said this</p>")
    remote.objects.pop(forged["id"].removeprefix(remote.base))
    activity = remote.create("mallory", forged)
    activity["actor"] = remote.actor_id("mallory")

    assert await remote.send("mallory", activity) == 202

    assert "Bob never said this" not in await page(site, post)
    assert await site.ctx.comments.get_comment_by_remote_id(forged["id"]) is None


async def test_note_with_an_id_on_another_origin__is_refetched_not_trusted(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Embedded lie</p>")
    note["attributedTo"] = remote.actor_id("alice")
    note["id"] = "http://127.0.0.2:9/users/alice/statuses/1"  # not alice's origin: fetched from there, which fails

    await remote.send("alice", remote.create("alice", note))

    assert "Embedded lie" not in await page(site, post)


async def test_update_of_someone_elses_comment__changes_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Alice original</p>")
    await remote.send("alice", remote.create("alice", note))
    tampered = dict(note, content="<p>Mallory was here</p>", contentMap={"fr": "<p>Mallory was here</p>"})
    update = remote.sample("update-note", "mallory")
    update.pop("signature")
    update.update({"object": tampered, "id": f"{remote.actor_id('mallory')}#updates/1"})

    await remote.send("mallory", update)

    html = await page(site, post)
    assert "Alice original" in html and "Mallory was here" not in html
    assert 'class="edited"' not in html


async def test_delete_of_someone_elses_comment__changes_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Still here</p>")
    await remote.send("alice", remote.create("alice", note))
    delete = remote.sample("delete-note-tombstone", "mallory")
    delete.pop("signature")
    delete["object"] = {"id": note["id"], "type": "Tombstone"}

    await remote.send("mallory", delete)

    assert "Still here" in await page(site, post)


async def test_forwarded_create__embedded_copy_ignored_note_refetched_from_origin(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given Alice's real reply, served by her server
    post = await publish(site)
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>What Alice really wrote</p>")
    # When Mallory's server forwards Alice's Create with a tampered embedded copy, signed with Mallory's key
    tampered = dict(note, content="<p>Forged by Mallory</p>", contentMap={"fr": "<p>Forged by Mallory</p>"})
    status = await remote.send("alice", remote.create("alice", tampered), key_name="mallory")
    # Then it is accepted as a forward, and the page shows the Note as fetched from Alice's origin
    assert status == 202
    html = await page(site, post)
    assert "What Alice really wrote" in html
    assert "Forged by Mallory" not in html


async def test_like_signed_by_another_key__is_refused(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    like = remote.sample("like", "alice", post)

    status = await remote.send("alice", like, key_name="mallory")

    assert status == 401
    assert "1 like" not in await page(site, post)


async def test_blocked_domain__its_replies_are_dropped_and_follows_refused(
    site: LiveSite, remote: RemoteInstance
) -> None:
    from fedblog.services.blocks import add_block
    from fedblog.store.followers import FollowerStore

    post = await publish(site)
    await add_block(site.ctx, remote.host)
    follow = follow_activity(remote, "alice", site.ctx.urls.actor())

    assert await remote.send("alice", follow) == 403
    note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>From a blocked place</p>")
    assert await remote.send("alice", remote.create("alice", note)) == 403

    assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is None
    assert "From a blocked place" not in await page(site, post)
    assert remote.delivered("Accept") == []


async def test_blocked_account__only_that_account_is_dropped(site: LiveSite, remote: RemoteInstance) -> None:
    from fedblog.services.blocks import add_block

    post = await publish(site)
    await add_block(site.ctx, remote.actor_id("mallory"))

    await remote.send(
        "mallory", remote.create("mallory", remote.note("mallory", site.ctx.urls.note(post.slug), "<p>M</p>"))
    )
    await remote.send("alice", remote.create("alice", remote.note("alice", site.ctx.urls.note(post.slug), "<p>A</p>")))

    html = await page(site, post)
    assert "<p>A</p>" in html and "<p>M</p>" not in html


async def test_blocked_author_of_an_ancestor__drops_the_fetched_chain(site: LiveSite, remote: RemoteInstance) -> None:
    from fedblog.services.blocks import add_block

    post = await publish(site)
    await add_block(site.ctx, remote.actor_id("mallory"))
    mallory = remote.note("mallory", site.ctx.urls.note(post.slug), "<p>Blocked words</p>")
    reply = remote.note("alice", mallory["id"], "<p>Reply to a blocked account</p>")

    await remote.send("alice", remote.create("alice", reply))

    html = await page(site, post)
    assert "Blocked words" not in html and "Reply to a blocked account" not in html


async def test_forwarded_create__with_the_actors_integrity_proof_is_believed_without_a_fetch(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given Alice's actor listing an Ed25519 Multikey (FEP-8b32), and two replies her server does not serve
    post = await publish(site)
    key = Ed25519PrivateKey.generate()
    key_id = f"{remote.actor_id('alice')}#ed25519-key"
    remote.profiles["alice"] = {
        "assertionMethod": [multikey_document(key_id, remote.actor_id("alice"), key.public_key())]
    }
    proved = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Vouched for by Alice's proof</p>")
    altered = remote.note("alice", site.ctx.urls.note(post.slug), "<p>What Alice signed</p>")
    for note in (proved, altered):
        del remote.objects[note["id"].removeprefix(remote.base)]
    now = datetime.now(UTC)
    genuine = add_proof(remote.create("alice", proved), key, key_id, now)
    tampered = add_proof(remote.create("alice", altered), key, key_id, now)
    tampered["object"]["content"] = "<p>Forged on the way</p>"

    # When Bob's server forwards both (signed with Bob's key)
    assert await remote.send("alice", genuine, key_name="bob") == 202
    assert await remote.send("alice", tampered, key_name="bob") == 202

    # Then the one whose proof holds is on the page as sent; the altered one, unverifiable, is not
    html = await page(site, post)
    assert "Vouched for by Alice's proof" in html
    assert "Forged on the way" not in html and "What Alice signed" not in html
