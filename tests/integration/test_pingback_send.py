"""Sending pingbacks: a published post that links to a page with no Webmention endpoint but a pingback server
(X-Pingback header or <link rel="pingback">) pings that server in the background. The linked pages are an aiohttp
site on 127.0.0.1; the pingback server is Python's own xmlrpc.server on 127.0.0.1."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import AsyncIterator, Iterator

import pytest

from fedblog.models import Post
from fedblog.protocol import pingback
from fedblog.store.webmentions import WebmentionStore
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.pages import OtherSite, Served
from tests.fakes.pingback import PingbackServer, pingback_server
from tests.helpers import eventually
from tests.integration.blog_support import publish


@pytest.fixture
async def linked() -> AsyncIterator[OtherSite]:
    """The pages our posts link to."""
    site = await OtherSite().start()
    yield site
    await site.close()


@pytest.fixture
def wordpress() -> Iterator[PingbackServer]:
    with pingback_server() as server:
        yield server


async def settled(site: LiveSite, post: Post, target: str) -> tuple[str, int, str | None]:
    store = WebmentionStore(site.ctx.db)

    async def done() -> tuple[str, int, str | None] | None:
        state = await store.sent_state(site.ctx.urls.post(post.slug), target)
        return state if state is not None and state[0] != "pending" else None

    return await eventually(done, "the ping settled")


@pytest.mark.parametrize("advertised_by", ["x-pingback", "link-element"])
async def test_pingback__publishing_pings_a_linked_page_that_offers_only_pingback(
    site_factory: SiteFactory, linked: OtherSite, wordpress: PingbackServer, advertised_by: str
) -> None:
    # Given a linked page with no Webmention endpoint that advertises its pingback server
    site = await site_factory(overrides={"webmention": {"send": True}, "pingback": {"send": True}})
    if advertised_by == "x-pingback":
        page = Served(body="<p>An article</p>", headers={"X-Pingback": wordpress.url})
    else:
        page = Served(body=f'<html><head><link rel="pingback" href="{wordpress.url}" /></head><body>An article</body>')
    linked.pages["/2009/03/14/un-billet/"] = page
    target = linked.url("/2009/03/14/un-billet/")
    # When a post linking to it is published
    post = await publish(site, "Linking out", body=f"I read [this article]({target}).")
    # Then the server is sent pingback.ping(our post, the page) by XML-RPC, once
    assert (await settled(site, post, target))[0] == "sent"
    assert wordpress.pings == [(site.ctx.urls.post(post.slug), target)]
    assert await WebmentionStore(site.ctx.db).sent_protocol(site.ctx.urls.post(post.slug), target) == "pingback"
    assert linked.posts == []  # no webmention was attempted anywhere


async def test_pingback__a_webmention_endpoint_is_preferred(
    site_factory: SiteFactory, linked: OtherSite, wordpress: PingbackServer
) -> None:
    site = await site_factory(overrides={"webmention": {"send": True}, "pingback": {"send": True}})
    headers = {"X-Pingback": wordpress.url, "Link": '</endpoint>; rel="webmention"'}
    linked.pages["/article"] = Served(body="<p>An article</p>", headers=headers)
    target = linked.url("/article")
    post = await publish(site, "Linking out", body=f"I read [this article]({target}).")
    assert (await settled(site, post, target))[0] == "sent"
    assert [path for path, _ in linked.posts] == ["/endpoint"]
    assert wordpress.pings == []


async def test_pingback__a_fault_is_final_and_already_registered_counts_as_sent(
    site_factory: SiteFactory, linked: OtherSite, wordpress: PingbackServer
) -> None:
    site = await site_factory(overrides={"pingback": {"send": True}})
    linked.pages["/refuses"] = Served(body="<p>x</p>", headers={"X-Pingback": wordpress.url})
    target = linked.url("/refuses")
    wordpress.fault = xmlrpc.client.Fault(pingback.SOURCE_HAS_NO_LINK, "The source URL does not contain a link.")
    post = await publish(site, "Refused", body=f"See [it]({target}).")
    state, attempts, error = await settled(site, post, target)
    assert (state, attempts) == ("failed", 1)
    assert error == "pingback fault 17: The source URL does not contain a link."
    # A ping the server already has (an edit pings again) is not an error
    wordpress.fault = xmlrpc.client.Fault(pingback.ALREADY_REGISTERED, "The pingback has already been registered.")
    linked.pages["/again"] = Served(body="<p>x</p>", headers={"X-Pingback": wordpress.url})
    other = await publish(site, "Again", body=f"See [it]({linked.url('/again')}).")
    assert (await settled(site, other, linked.url("/again")))[0] == "sent"


async def test_pingback__sending_off_leaves_pingback_servers_alone(
    site_factory: SiteFactory, linked: OtherSite, wordpress: PingbackServer
) -> None:
    site = await site_factory(overrides={"webmention": {"send": True}, "pingback": {"send": False}})
    linked.pages["/article"] = Served(body="<p>x</p>", headers={"X-Pingback": wordpress.url})
    target = linked.url("/article")
    post = await publish(site, "Quiet", body=f"See [it]({target}).")
    assert (await settled(site, post, target))[0] == "no_endpoint"
    assert wordpress.pings == []
