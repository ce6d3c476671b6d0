"""Posts as Notes at their HTML URL, the outbox and followers collections, activity ids, tombstones."""

from __future__ import annotations

import json

from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite
from tests.integration.fed_support import AS2, LD_PROFILE, fetch, fetch_json


async def publish(site: LiveSite, title: str, body: str = "Body text.", **extra: object) -> str:
    post = await PostService(site.ctx).publish(PostInput(title=title, body_markdown=body, **extra))  # type: ignore[arg-type]
    return post.slug


async def test_note__served_at_the_post_url_for_both_accept_forms(site: LiveSite) -> None:
    slug = await publish(
        site,
        "Engines",
        "The **analytical** engine.\n\n![A drawing of the engine](/static/engine.png)",
        tags=("history",),
        summary="long read",
        language="fr",
    )
    url = f"{site.url}/posts/{slug}"
    for accept in (AS2, LD_PROFILE, "application/ld+json"):
        status, headers, text = await fetch(url, accept)
        assert status == 200, accept
        assert headers["Content-Type"] == AS2
        assert headers["Vary"] == "Accept"
        note = json.loads(text)
        assert note["id"] == url
        assert note["type"] == "Note"
    assert note["url"] == url
    assert note["attributedTo"] == f"{site.url}/actor"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [f"{site.url}/actor/followers"]
    assert note["content"].startswith(f'<p><strong><a href="{url}">Engines</a></strong></p>')
    assert "<strong>analytical</strong>" in note["content"]
    assert note["contentMap"] == {"fr": note["content"]}
    assert note["summary"] == "long read" and note["sensitive"] is True
    assert note["tag"] == [{"type": "Hashtag", "href": f"{site.url}/tags/history", "name": "#history"}]
    assert note["attachment"] == [
        {
            "type": "Image",
            "url": f"{site.url}/static/engine.png",
            "name": "A drawing of the engine",
            "mediaType": "image/png",
        }
    ]
    assert note["published"].endswith("Z")
    assert "updated" not in note
    replies = await fetch_json(note["replies"]["id"])
    assert replies["type"] == "OrderedCollection" and replies["totalItems"] == 0
    # Browsers still get the page at the same URL
    status, headers, _ = await fetch(url, "text/html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")


async def test_note__updated_after_an_edit(site: LiveSite) -> None:
    slug = await publish(site, "Draft one")
    await PostService(site.ctx).edit(slug, PostInput(title="Draft two", body_markdown="New body"))
    note = await fetch_json(f"{site.url}/posts/{slug}")
    assert note["updated"].endswith("Z")
    assert "Draft two" in note["content"] and "New body" in note["content"]


async def test_note__deleted_post_answers_410_tombstone(site: LiveSite) -> None:
    slug = await publish(site, "Short lived")
    await PostService(site.ctx).delete(slug)
    status, headers, text = await fetch(f"{site.url}/posts/{slug}", AS2)
    assert status == 410
    assert headers["Content-Type"] == AS2
    body = json.loads(text)
    assert body["type"] == "Tombstone"
    assert body["id"] == f"{site.url}/posts/{slug}"
    assert body["formerType"] == "Note"
    status, _, _ = await fetch(f"{site.url}/posts/never-existed", AS2)
    assert status == 404


async def test_outbox__pages_of_create_activities_that_dereference(site: LiveSite) -> None:
    slugs = [await publish(site, f"Post number {n}") for n in range(25)]
    await PostService(site.ctx).delete(slugs[0])
    outbox = await fetch_json(f"{site.url}/actor/outbox")
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 24
    first = await fetch_json(outbox["first"])
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{site.url}/actor/outbox"
    assert len(first["orderedItems"]) == 20
    assert all(item["type"] == "Create" for item in first["orderedItems"])
    assert first["orderedItems"][0]["object"]["id"] == f"{site.url}/posts/{slugs[-1]}"
    second = await fetch_json(first["next"])
    assert len(second["orderedItems"]) == 4
    assert "next" not in second and second["prev"] == outbox["first"]
    # Every activity id dereferences to the same activity, with 200
    create = first["orderedItems"][3]
    fetched = await fetch_json(create["id"])
    assert fetched["id"] == create["id"] and fetched["object"]["id"] == create["object"]["id"]
    status, _, _ = await fetch(f"{site.url}/actor/outbox?page=9")
    assert status == 404


async def test_followers__collection_counts_and_pages_accepted_followers(site: LiveSite) -> None:
    store = FollowerStore(site.ctx.db)
    async with site.ctx.db.transaction() as conn:
        for n in range(23):
            await store.upsert(
                conn,
                actor_id=f"https://remote.example/users/u{n}",
                inbox=f"https://remote.example/users/u{n}/inbox",
                shared_inbox="https://remote.example/inbox",
                handle=f"@u{n}@remote.example",
                name=f"U{n}",
                follow_activity_id=f"https://remote.example/follows/{n}",
                follow_json="{}",
                status="accepted" if n < 21 else "pending",
            )
    followers = await fetch_json(f"{site.url}/actor/followers")
    assert followers["totalItems"] == 21
    first = await fetch_json(followers["first"])
    second = await fetch_json(first["next"])
    items = first["orderedItems"] + second["orderedItems"]
    assert len(items) == 21
    assert "https://remote.example/users/u0" in items
    assert "https://remote.example/users/u22" not in items
