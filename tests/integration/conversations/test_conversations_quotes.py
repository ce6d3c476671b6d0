"""Quote posts with consent (FEP-044f): the post's Note states who may quote it; a QuoteRequest from a loopback
Mastodon gets an Accept with a stamp it can fetch, or a Reject; authorized quotes show under the post; revoking the
stamp sends its Delete and takes the quote off the page."""

from __future__ import annotations

from typing import Any

from fedblog.models import Post
from fedblog.protocol.activitystreams import PUBLIC
from fedblog.store.quotes import QuoteStore
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import FEDBLOG, deliver_all, eventually, page, publish, run
from tests.integration.fed_support import fetch, fetch_json


def quoting_note(
    remote: RemoteInstance, site: LiveSite, post: Post, actor: str = "bob", **fields: Any
) -> dict[str, Any]:
    """A public post by `actor` quoting the blog's post, served at its id (as Mastodon 4.5 writes one)."""
    target = site.ctx.urls.note(post.slug)
    note = remote.note(actor, "", "<p>Look at this post</p>", inReplyTo=None, quote=target, _misskey_quote=target)
    note.update(fields)
    remote.objects[note["id"].removeprefix(remote.base)].update(note)
    return note


def quote_request(remote: RemoteInstance, site: LiveSite, post: Post, note: dict[str, Any], actor: str = "bob") -> dict:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"},
        ],
        "id": f"{remote.actor_id(actor)}/quote_requests/{note['id'].rsplit('/', 1)[1]}",
        "type": "QuoteRequest",
        "actor": remote.actor_id(actor),
        "object": site.ctx.urls.note(post.slug),
        "instrument": note,
    }


async def answers(site: LiveSite, remote: RemoteInstance, kind: str) -> list[dict[str, Any]]:
    await deliver_all(site)
    return remote.delivered(kind)


async def test_quote_request__accepted_with_a_stamp_shown_under_the_post_then_revoked(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    note = await fetch_json(site.ctx.urls.note(post.slug))
    assert note["interactionPolicy"]["canQuote"] == {"automaticApproval": [PUBLIC]}
    quoting = quoting_note(remote, site, post)
    request = quote_request(remote, site, post, quoting)

    assert await remote.send("bob", request) == 202

    accept = (await eventually(lambda: answers(site, remote, "Accept"), "the Accept"))[0]
    assert accept["actor"] == site.ctx.urls.actor() and accept["object"]["id"] == request["id"]
    assert accept["object"]["instrument"] == quoting["id"]
    stamp = await fetch_json(accept["result"])
    assert stamp["type"] == "QuoteAuthorization" and stamp["id"] == accept["result"]
    assert stamp["attributedTo"] == site.ctx.urls.actor()
    assert stamp["interactingObject"] == quoting["id"]
    assert stamp["interactionTarget"] == site.ctx.urls.note(post.slug)
    html = await page(site, post)
    assert "1 quote" in html and f'href="{quoting["url"]}"' in html

    [stored] = await QuoteStore(site.ctx.db).list_for_post(post.id)
    config = str(site.settings.root / "fedblog.toml")
    listed = await run(FEDBLOG, "--config", config, "quotes", "list")
    assert listed.code == 0 and f"{stored.id}  accepted" in listed.out and quoting["url"] in listed.out
    revoked = await run(FEDBLOG, "--config", config, "quotes", "revoke", str(stored.id))
    assert revoked.code == 0, revoked.err
    assert (await run(FEDBLOG, "--config", config, "quotes", "revoke", "999999")).code != 0

    delete = (await eventually(lambda: answers(site, remote, "Delete"), "the stamp's Delete"))[0]
    assert delete["object"] == accept["result"]
    assert (await fetch(accept["result"]))[0] == 404
    assert "1 quote" not in await page(site, post)


async def test_quote_request__refused_when_nobody_may_quote(site_factory: SiteFactory, remote: RemoteInstance) -> None:
    site = await site_factory(overrides={"federation": {"quote_policy": "nobody"}})
    remote.site = site
    post = await publish(site)
    note = await fetch_json(site.ctx.urls.note(post.slug))
    assert note["interactionPolicy"]["canQuote"] == {"automaticApproval": [site.ctx.urls.actor()]}
    request = quote_request(remote, site, post, quoting_note(remote, site, post))

    await remote.send("bob", request)

    reject = (await eventually(lambda: answers(site, remote, "Reject"), "the Reject"))[0]
    assert reject["object"]["id"] == request["id"] and not remote.delivered("Accept")
    assert "1 quote" not in await page(site, post)


async def test_quote_request__followers_only_refuses_others_and_a_post_that_does_not_quote(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides={"federation": {"quote_policy": "followers"}})
    remote.site = site
    post = await publish(site)
    assert (await fetch_json(site.ctx.urls.note(post.slug)))["interactionPolicy"]["canQuote"] == {
        "automaticApproval": [site.ctx.urls.followers()]
    }
    await remote.send("bob", quote_request(remote, site, post, quoting_note(remote, site, post)))
    await eventually(lambda: answers(site, remote, "Reject"), "the Reject for a stranger")
    assert await QuoteStore(site.ctx.db).count_for_post(post.id) == 0


async def test_quote_request__with_a_forged_instrument_is_refused(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    # The embedded copy says it quotes the post; the post its server serves quotes nothing.
    served = quoting_note(remote, site, post, quote=None, _misskey_quote=None)
    claimed = {**served, "quote": site.ctx.urls.note(post.slug)}

    await remote.send("bob", quote_request(remote, site, post, claimed))

    await eventually(lambda: answers(site, remote, "Reject"), "the Reject")
    assert not remote.delivered("Accept") and await QuoteStore(site.ctx.db).count_for_post(post.id) == 0


async def test_quoting_post_deleted__leaves_the_page(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    quoting = quoting_note(remote, site, post)
    await remote.send("bob", quote_request(remote, site, post, quoting))
    await eventually(lambda: QuoteStore(site.ctx.db).count_for_post(post.id), "the quote recorded")

    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{quoting['id']}#delete",
        "type": "Delete",
        "actor": remote.actor_id("bob"),
        "object": {"id": quoting["id"], "type": "Tombstone"},
    }
    await remote.send("bob", delete)

    assert await QuoteStore(site.ctx.db).count_for_post(post.id) == 0
    assert "1 quote" not in await page(site, post)
