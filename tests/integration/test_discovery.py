"""WebFinger, host-meta and NodeInfo, fetched over real HTTP from the running app."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"


async def get(url: str, accept: str = "application/jrd+json, application/json") -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers={"Accept": accept}) as response:
        return response.status, dict(response.headers), await response.text()


def host_port(site: LiveSite) -> str:
    return urlsplit(site.url).netloc


async def test_webfinger__acct_answers_the_jrd(site: LiveSite) -> None:
    # Given a blog at http://127.0.0.1:PORT, When a server looks up acct:author@127.0.0.1:PORT
    status, headers, text = await get(f"{site.url}/.well-known/webfinger?resource=acct:author@{host_port(site)}")
    # Then the JRD names the actor as `self` with the AS2 type, the profile page, and the subscribe template
    assert status == 200
    assert headers["Content-Type"] == "application/jrd+json"
    assert headers["Access-Control-Allow-Origin"] == "*"
    jrd = json.loads(text)
    assert jrd["subject"] == f"acct:author@{host_port(site)}"
    assert jrd["aliases"] == [f"{site.url}/@author", f"{site.url}/actor"]
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"] == {"rel": "self", "type": "application/activity+json", "href": f"{site.url}/actor"}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{site.url}/@author"
    assert links["http://webfinger.net/rel/profile-page"]["type"] == "text/html"
    subscribe = links["http://ostatus.org/schema/1.0/subscribe"]["template"]
    assert subscribe == f"{site.url}/authorize_interaction?uri={{uri}}"


async def test_webfinger__matches_the_expected_sample_shape(site: LiveSite) -> None:
    expected = json.loads((SAMPLES / "webfinger-blog-expected.json").read_text())
    status, _, text = await get(f"{site.url}/.well-known/webfinger?resource=acct:author@127.0.0.1")
    jrd = json.loads(text)
    assert status == 200
    assert set(expected) <= set(jrd)
    sample_links = {(link["rel"], link.get("type")) for link in expected["links"]}
    assert sample_links <= {(link["rel"], link.get("type")) for link in jrd["links"]}
    assert len(jrd["aliases"]) == len(expected["aliases"])


async def test_webfinger__actor_and_profile_urls_and_case(site: LiveSite) -> None:
    for resource in (f"{site.url}/actor", f"{site.url}/@author", f"acct:AUTHOR@{host_port(site)}", "author@127.0.0.1"):
        status, _, text = await get(f"{site.url}/.well-known/webfinger?resource={resource}")
        assert status == 200, resource
        assert json.loads(text)["subject"] == f"acct:author@{host_port(site)}"


async def test_webfinger__unknown_is_404(site: LiveSite) -> None:
    for resource in ("acct:someone@127.0.0.1", "acct:author@elsewhere.example", f"{site.url}/posts/x"):
        status, headers, text = await get(f"{site.url}/.well-known/webfinger?resource={resource}")
        assert status == 404, resource
        assert headers["Content-Type"] == "application/jrd+json"
        assert "error" in json.loads(text)


async def test_webfinger__malformed_is_400(site: LiveSite) -> None:
    for query in ("", "?resource=", "?resource=acct:nohost", "?resource=mailto:author@127.0.0.1", "?foo=bar"):
        status, headers, _ = await get(f"{site.url}/.well-known/webfinger{query}")
        assert status == 400, query
        assert headers["Access-Control-Allow-Origin"] == "*"


async def test_host_meta__points_to_webfinger(site: LiveSite) -> None:
    status, headers, text = await get(f"{site.url}/.well-known/host-meta", accept="application/xrd+xml")
    assert status == 200
    assert headers["Content-Type"].startswith("application/xrd+xml")
    assert f'template="{site.url}/.well-known/webfinger?resource={{uri}}"' in text


async def test_nodeinfo__discovery_and_document(site: LiveSite) -> None:
    await PostService(site.ctx).publish(PostInput(title="Hello", body_markdown="Hi"))
    status, _, text = await get(f"{site.url}/.well-known/nodeinfo", accept="application/json")
    assert status == 200
    link = json.loads(text)["links"][0]
    assert link == {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f"{site.url}/nodeinfo/2.1"}
    status, headers, text = await get(link["href"], accept="application/json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    document = json.loads(text)
    assert document["version"] == "2.1"
    assert document["software"]["name"] == "fedblog"
    assert document["software"]["version"]
    assert document["protocols"] == ["activitypub"]
    assert document["openRegistrations"] is False
    assert document["usage"]["users"] == {"total": 1, "activeMonth": 1, "activeHalfyear": 1}
    assert document["usage"]["localPosts"] == 1
    assert document["metadata"]["nodeName"] == "Test blog"
