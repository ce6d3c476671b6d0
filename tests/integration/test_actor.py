"""The actor: one URL, JSON for servers and the profile page for browsers."""

from __future__ import annotations

from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite, SiteFactory
from tests.integration.fed_support import AS2, LD_PROFILE, fetch, fetch_json


async def test_actor__json_has_what_peers_need(site_factory: SiteFactory) -> None:
    site = await site_factory(
        overrides={
            "author": {
                "display_name": "Ada <Lovelace>",
                "bio": "Notes on engines.",
                "avatar": "https://img.example/ada.png",
                "header_image": "/static/header.jpg",
                "links": ["Home = https://ada.example/"],
            },
            "federation": {"manually_approves_followers": True},
        }
    )
    actor = await fetch_json(f"{site.url}/actor")
    assert actor["id"] == f"{site.url}/actor"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "author"
    assert actor["name"] == "Ada <Lovelace>"
    assert actor["summary"] == "<p>Notes on engines.</p>"
    assert actor["url"] == f"{site.url}/@author"
    assert actor["inbox"] == f"{site.url}/actor/inbox"
    assert actor["outbox"] == f"{site.url}/actor/outbox"
    assert actor["followers"] == f"{site.url}/actor/followers"
    assert actor["following"] == f"{site.url}/actor/following"
    assert actor["featured"] == f"{site.url}/actor/featured"
    assert actor["endpoints"]["sharedInbox"] == f"{site.url}/inbox"
    assert actor["publicKey"] == {
        "id": f"{site.url}/actor#main-key",
        "owner": f"{site.url}/actor",
        "publicKeyPem": site.ctx.public_key_pem,
    }
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["manuallyApprovesFollowers"] is True
    assert actor["discoverable"] is True
    assert actor["indexable"] is True
    assert actor["published"].endswith("Z")
    assert actor["icon"]["url"] == "https://img.example/ada.png"
    assert actor["image"]["url"] == f"{site.url}/static/header.jpg"
    assert actor["attachment"][0]["name"] == "Home"
    assert 'rel="me nofollow noopener"' in actor["attachment"][0]["value"]
    assert "https://www.w3.org/ns/activitystreams" in actor["@context"]


async def test_actor__same_url_negotiates_html_and_json(site: LiveSite) -> None:
    await PostService(site.ctx).publish(PostInput(title="A first post", body_markdown="Text"))
    for accept in (AS2, LD_PROFILE, "application/ld+json", "application/activity+json, application/ld+json"):
        status, headers, text = await fetch(f"{site.url}/actor", accept)
        assert status == 200, accept
        assert headers["Content-Type"] == AS2
        assert headers["Vary"] == "Accept"
    status, headers, text = await fetch(f"{site.url}/actor", "text/html,application/xhtml+xml")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Accept" in headers["Vary"]
    assert "@author@127.0.0.1" in text
    assert "A first post" in text
    assert f'<link rel="alternate" type="application/activity+json" href="{site.url}/actor">' in text


async def test_profile__at_username_serves_the_profile_page(site: LiveSite) -> None:
    status, headers, text = await fetch(f"{site.url}/@author", "text/html")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Follow this blog from the fediverse" in text
    status, _, _ = await fetch(f"{site.url}/@someone", "text/html")
    assert status == 404


async def test_actor__never_redirects_and_is_public_in_authorized_fetch_mode(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"federation": {"authorized_fetch": True}})
    status, headers, _ = await fetch(f"{site.url}/actor")
    assert status == 200
    assert headers["Content-Type"] == AS2


async def test_collections__featured_and_following_are_empty(site: LiveSite) -> None:
    featured = await fetch_json(f"{site.url}/actor/featured")
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 0
    assert featured["orderedItems"] == []
    following = await fetch_json(f"{site.url}/actor/following")
    assert following["totalItems"] == 0
    page = await fetch_json(following["first"])
    assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == []


async def test_profile__in_french_for_a_french_site(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    status, _, text = await fetch(f"{site.url}/@author", "text/html")
    assert status == 200
    assert "Suivre ce blog depuis le fédivers" in text
    assert "0 abonné" in text
