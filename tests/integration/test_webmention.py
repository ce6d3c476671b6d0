"""Webmention, received and sent, on the real app with a real SQLite file. The other sites are aiohttp servers on
127.0.0.1 started here: pages that mention a post (sources) and pages that advertise an endpoint (targets)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from fedblog.app import create_app
from fedblog.assembly import open_context
from fedblog.config import load_settings
from fedblog.models import CommentOrigin, CommentStatus, PostKind
from fedblog.protocol.webmention import normalize_url as wm_normalize
from fedblog.services.blocks import add_block
from fedblog.services.comments import CommentService
from fedblog.services.posts import PostInput, PostService
from fedblog.services.webmention_receive import accept_webmention
from fedblog.store.webmentions import WebmentionStore
from tests.conftest import ADMIN_PASSWORD, LiveSite, SiteFactory, free_port, make_site
from tests.fakes.pages import OtherSite, Served
from tests.helpers import eventually
from tests.integration.blog_support import get, new_session, post_form, post_page, publish, thread_html, verified


@pytest.fixture
async def other_site() -> AsyncIterator[OtherSite]:
    site = await OtherSite().start()
    yield site
    await site.close()


def h_entry(target: str, text: str, kind: str = "u-in-reply-to", author: str = "Ann Example") -> str:
    """A source page in the IndieWeb style: an h-entry with its p-author h-card and a link to the target."""
    return f"""<!doctype html><html><head><title>A post</title></head><body>
    <article class="h-entry">
      <span class="p-author h-card"><img class="u-photo" src="https://photos.example/ann.jpg" alt="">
        <a class="u-url p-name" href="/about">{html.escape(author)}</a></span>
      <a class="{kind}" href="{html.escape(target)}">the post</a>
      <div class="e-content"><p>{html.escape(text)}</p></div>
    </article></body></html>"""


async def send_webmention(site: LiveSite, source: str, target: str) -> tuple[int, str]:
    data = {"source": source, "target": target}
    async with aiohttp.ClientSession() as session, session.post(f"{site.url}/webmention", data=data) as response:
        return response.status, await response.text()


# --- receiving --------------------------------------------------------------------------------------------------


async def test_webmention__post_page_advertises_the_endpoint(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    page = await get(site, f"/posts/{post.slug}")
    again = await get(site, f"/posts/{post.slug}")  # served from the page cache
    endpoint = f"{site.url}/webmention"
    assert f'<link rel="webmention" href="{endpoint}">' in page.text
    for answer in (page, again):
        assert answer.headers.getall("Link") == [f'<{endpoint}>; rel="webmention"']


async def test_webmention__reply_from_a_linking_page_is_threaded_after_moderation(
    site: LiveSite, other_site: OtherSite
) -> None:
    # Given a post and a page that replies to it with an h-entry and its author's h-card
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/reply"] = Served(body=h_entry(target, "What a lovely post, thank you."))
    source = other_site.url("/reply")
    # When the page's site sends a webmention
    status, text = await send_webmention(site, source, target)
    assert status == 202, text
    _, comment_id = await verified(site, source, target)
    # Then it waits in the moderation queue, labelled webmention, with its author from the h-card
    assert "lovely post" not in await post_page(site, post)
    session = new_session()
    try:
        assert (await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, session)).status == 303
        queue = await get(site, "/admin/comments?status=pending", session)
    finally:
        await session.close()
    assert "Ann Example" in queue.text and "<dd>webmention</dd>" in queue.text and "lovely post" in queue.text
    assert f'<dd class="source"><a href="{source}" rel="nofollow noopener noreferrer">' in queue.text
    # And once approved it is a comment of the thread, linked to its source
    assert comment_id is not None
    await CommentService(site.ctx).approve(comment_id)
    page = await post_page(site, post)
    thread = thread_html(page)
    assert "Ann Example" in thread and "What a lovely post, thank you." in thread
    assert f'href="{other_site.url("/about")}"' in thread
    # (the h-card photo is served by the blog once fetched: readers never load it from the other site)
    assert 'src="https://photos.example/ann.jpg"' not in thread and "/faces/remote/" in thread
    assert f'<a href="{source}" rel="nofollow ugc noopener">Replied on {other_site.base.split("/")[2]}</a>' in thread
    assert "1 comment" in page
    # A webmention is a web page, not an ActivityPub object: the post's replies collection does not list it
    async with aiohttp.ClientSession() as client:
        replies_url = f"{site.url}/posts/{post.slug}/replies?page=1"
        async with client.get(replies_url, headers={"Accept": "application/activity+json"}) as answer:
            assert answer.status == 200
            assert (await answer.json())["orderedItems"] == []


async def test_webmention__a_page_of_the_blog_takes_webmentions_too(site: LiveSite, other_site: OtherSite) -> None:
    # Given a page (it answers at /SLUG/ and advertises the endpoint like a post)
    page = await PostService(site.ctx).publish(PostInput(title="About", body_markdown="Me.", kind=PostKind.PAGE))
    target = site.ctx.urls.page(page.slug)
    assert f'<link rel="webmention" href="{site.url}/webmention">' in (await get(site, f"/{page.slug}/")).text
    other_site.pages["/reply"] = Served(body=h_entry(target, "Nice to meet you."))
    source = other_site.url("/reply")
    # When another site sends a webmention for it, it is taken (it was refused as "not a post")
    status, text = await send_webmention(site, source, target)
    assert status == 202, text
    _, comment_id = await verified(site, source, wm_normalize(target))
    # Then once approved the reply is in the page's thread
    assert comment_id is not None
    await CommentService(site.ctx).approve(comment_id)
    assert "Nice to meet you." in thread_html((await get(site, f"/{page.slug}/")).text)


async def test_webmention__a_post_url_naming_a_page_is_refused(site: LiveSite) -> None:
    page = await PostService(site.ctx).publish(PostInput(title="About", body_markdown="Me.", kind=PostKind.PAGE))
    status, text = await send_webmention(site, "https://elsewhere.example/p", site.ctx.urls.post(page.slug))
    assert status == 400 and "not a published post or page" in text


async def test_webmention__like_is_listed_under_mentions_not_counted_as_a_comment(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open"}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/like"] = Served(body=h_entry(target, "", kind="u-like-of", author="Bea"))
    assert (await send_webmention(site, other_site.url("/like"), target))[0] == 202
    await verified(site, other_site.url("/like"), target)
    page = await post_page(site, post)
    mentions = page[page.index('<section id="mentions"') :]
    host = other_site.base.split("/")[2]
    assert re.search(
        r'class="mention-author"[^>]*>Bea</a> liked this on <a class="mention-source" href="'
        + re.escape(other_site.url("/like"))
        + r'"[^>]*>'
        + re.escape(host.split(":")[0]),
        mentions,
    )
    assert "0 comments" in page and "Bea" not in thread_html(page)


async def test_webmention__in_french_the_mentions_list_is_translated(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(language="fr", overrides={"comments": {"moderation": "open"}})
    post = await publish(site, "Bonjour")
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/repost"] = Served(body=h_entry(target, "", kind="u-repost-of", author="Chloé"))
    await send_webmention(site, other_site.url("/repost"), target)
    await verified(site, other_site.url("/repost"), target)
    page = await post_page(site, post)
    assert "Chloé</a> a partagé ceci sur" in page


async def test_webmention__page_without_a_link_to_the_post_is_dropped(site: LiveSite, other_site: OtherSite) -> None:
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    # Mentions the URL in text and in a near-miss link, but links nowhere to it
    other_site.pages["/spam"] = Served(
        body=f"<p>{html.escape(target)}</p><a href='{html.escape(target)}-other'>x</a><!-- <a href='{target}'> -->"
    )
    assert (await send_webmention(site, other_site.url("/spam"), target))[0] == 202
    _, comment_id = await verified(site, other_site.url("/spam"), target, state="rejected")
    assert comment_id is None
    assert await site.ctx.comments.list_by_status(None) == []


async def test_webmention__resent_mention_updates_and_a_gone_source_removes_it(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open"}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    source = other_site.url("/reply")
    other_site.pages["/reply"] = Served(body=h_entry(target, "First version."))
    await send_webmention(site, source, target)
    _, first_id = await verified(site, source, target)
    assert "First version." in await post_page(site, post)
    # The source is edited and the webmention sent again: the same comment shows the new text
    other_site.pages["/reply"] = Served(body=h_entry(target, "Second version.", author="Ann Edited"))
    await send_webmention(site, source, target)
    _, second_id = await verified(site, source, target)
    page = await post_page(site, post)
    assert second_id == first_id
    assert "Second version." in page and "First version." not in page and "Ann Edited" in page
    assert "1 comment" in page
    # The source is deleted (410) and the webmention sent again: the comment goes
    other_site.pages["/reply"] = Served(status=410, body="gone")
    await send_webmention(site, source, target)
    await verified(site, source, target, state="rejected")
    page = await post_page(site, post)
    assert "Second version." not in page and await site.ctx.comments.get_comment(first_id or 0) is None
    assert await site.ctx.db.fetch_value("SELECT COUNT(*) FROM comment_authors WHERE name = 'Ann Edited'") == 0


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("https://elsewhere.example/a", "{blog}/posts/no-such-post", "not a published post"),
        ("https://elsewhere.example/a", "https://elsewhere.example/b", "not a published post"),
        ("{post}", "{post}", "must be different"),
        ("{blog}/search?q=hello", "{post}", "must be a page of another site"),
        ("ftp://elsewhere.example/a", "{post}", "'source' must be an http"),
        ("https://elsewhere.example/a", "javascript:alert(1)", "'target' must be an http"),
        ("", "{post}", "required"),
        ("https://spam.blocked.example/a", "{post}", "not accepted"),
    ],
)
async def test_webmention__bad_requests_get_400_and_store_nothing(
    site: LiveSite, source: str, target: str, message: str
) -> None:
    post = await publish(site, "Hello")
    await add_block(site.ctx, "blocked.example")
    values = {"blog": site.url, "post": site.ctx.urls.post(post.slug)}
    status, text = await send_webmention(site, source.format(**values), target.format(**values))
    assert status == 400 and message in text
    assert await site.ctx.db.fetch_value("SELECT COUNT(*) FROM webmentions_received") == 0


async def test_webmention__not_a_form_or_too_many_from_one_host(site: LiveSite) -> None:
    body = {"source": "x", "target": "y"}
    async with aiohttp.ClientSession() as session, session.post(f"{site.url}/webmention", json=body) as response:
        assert response.status == 400
    answers = [(await send_webmention(site, f"https://flood.example/{n}", f"{site.url}/posts/x"))[0] for n in range(11)]
    assert answers[:10] == [400] * 10 and answers[10] == 429


async def test_webmention__source_on_a_private_address_is_refused_without_the_test_switch(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"federation": {"allow_private_addresses": False}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/reply"] = Served(body=h_entry(target, "From inside the network."))
    assert (await send_webmention(site, other_site.url("/reply"), target))[0] == 202
    await verified(site, other_site.url("/reply"), target, state="rejected")
    assert other_site.gets == []  # never connected
    assert await site.ctx.comments.list_by_status(None) == []


# --- sending ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("advertised_by", ["header", "link-element"])
async def test_webmention__publishing_notifies_the_endpoint_of_a_linked_page(
    site_factory: SiteFactory, other_site: OtherSite, advertised_by: str
) -> None:
    site = await site_factory(overrides={"webmention": {"send": True}})
    if advertised_by == "header":
        page = Served(body="<p>An article</p>", headers={"Link": '</endpoint>; rel="webmention"'})
    else:  # relative, with a query string that must be kept (webmention.rocks discovery tests)
        page = Served(body='<html><head><link rel="webmention" href="endpoint?via=link"></head><body>An article</body>')
    other_site.pages["/article"] = page
    target = other_site.url("/article")
    post = await publish(site, "Linking out", body=f"I read [this article]({target}) and [that one]({site.url}/).")
    received = await eventually(lambda: _first_post(other_site), "the webmention sent")
    path, form = received  # type: ignore[misc]
    assert path == ("/endpoint" if advertised_by == "header" else "/endpoint?via=link")
    assert form == {"source": site.ctx.urls.post(post.slug), "target": target}
    assert len(other_site.posts) == 1  # the link to the blog itself is not notified


async def _first_post(other_site: OtherSite) -> tuple[str, dict[str, str]] | None:
    return other_site.posts[0] if other_site.posts else None


async def test_webmention__a_page_without_endpoint_is_not_retried(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"webmention": {"send": True}})
    other_site.pages["/plain"] = Served(body="<p>No endpoint here</p>")
    target = other_site.url("/plain")
    post = await publish(site, "Linking out", body=f"See [this]({target}).")
    store = WebmentionStore(site.ctx.db)

    async def settled() -> tuple[str, int, str | None] | None:
        state = await store.sent_state(site.ctx.urls.post(post.slug), target)
        return state if state is not None and state[0] != "pending" else None

    assert (await eventually(settled, "the sending settled"))[0] == "no_endpoint"
    assert other_site.posts == []


async def test_webmention__comment_origin_is_webmention(site_factory: SiteFactory, other_site: OtherSite) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "hold_all"}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/m"] = Served(body=f'<p>Plain page, <a href="{target}">a link</a>.</p>', content_type="text/html")
    await send_webmention(site, other_site.url("/m"), target)
    await verified(site, other_site.url("/m"), target)
    [comment] = await site.ctx.comments.list_by_status(CommentStatus.PENDING)
    assert comment.origin == CommentOrigin.WEBMENTION
    assert comment.author.name == "127.0.0.1" and comment.remote_url == other_site.url("/m")


async def test_webmention__queued_before_a_restart_is_verified_after_it(tmp_path: Path, other_site: OtherSite) -> None:
    # Given a webmention accepted by a process that stopped before verifying it (the CLI's context has no worker)
    port = free_port()
    overrides = {"comments": {"moderation": "open"}, "federation": {"allow_private_addresses": True}}
    config = make_site(tmp_path / "blog", f"http://127.0.0.1:{port}", overrides=overrides)
    settings = load_settings(config, environ={})
    async with open_context(settings) as ctx:
        post = await PostService(ctx).publish(PostInput(title="Hello", body_markdown="Text."))
        target = ctx.urls.post(post.slug)
        other_site.pages["/reply"] = Served(body=h_entry(target, "Written while you were away."))
        await accept_webmention(ctx, other_site.url("/reply"), target, ip=None)
    # When the server starts on that database
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        site = LiveSite(settings, runner, port)
        await verified(site, other_site.url("/reply"), target)
        # Then the mention is on the post page
        assert "Written while you were away." in await post_page(site, post)
    finally:
        await runner.cleanup()


async def test_webmention__editing_a_post_notifies_its_links_again_even_a_removed_one(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"webmention": {"send": True}})
    other_site.pages["/article"] = Served(body="<p>An article</p>", headers={"Link": '</endpoint>; rel="webmention"'})
    target = other_site.url("/article")
    post = await publish(site, "Linking out", body=f"I read [this article]({target}).")
    await eventually(lambda: _first_post(other_site), "the webmention sent")
    # When the author edits the post and the link goes away
    await PostService(site.ctx).edit(post.slug, PostInput(title="Linking out", body_markdown="No link any more."))

    async def second() -> bool:
        return len(other_site.posts) >= 2

    await eventually(second, "the second webmention sent")
    # Then the page that was linked is told again, so that it can drop the mention
    assert other_site.posts[1] == ("/endpoint", {"source": site.ctx.urls.post(post.slug), "target": target})


async def test_webmention__to_a_post_with_closed_comments_is_held(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open"}})
    post = await publish(site, "Closed")
    await PostService(site.ctx).edit(
        post.slug, PostInput(title=post.title, body_markdown=post.body_markdown, comments_open=False)
    )
    target = site.ctx.urls.post(post.slug)
    other_site.pages["/reply"] = Served(body=h_entry(target, "Replying after closing."))
    await send_webmention(site, other_site.url("/reply"), target)
    _, comment_id = await verified(site, other_site.url("/reply"), target)
    held = await site.ctx.comments.get_comment(comment_id or 0)
    assert held is not None and held.status == CommentStatus.PENDING
    assert "Replying after closing." not in await post_page(site, post)


async def test_webmention__an_approved_mention_changed_at_its_source_is_moderated_again(
    site_factory: SiteFactory, other_site: OtherSite
) -> None:
    # hold_all: every comment is moderated (with first_time, an approved source is trusted, edits included)
    site = await site_factory(overrides={"comments": {"moderation": "hold_all"}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    source = other_site.url("/reply")
    other_site.pages["/reply"] = Served(body=h_entry(target, "A kind reply."))
    await send_webmention(site, source, target)
    _, comment_id = await verified(site, source, target)
    await CommentService(site.ctx).approve(comment_id or 0)
    assert "A kind reply." in await post_page(site, post)
    # When the source is edited into something else and sent again
    other_site.pages["/reply"] = Served(body=h_entry(target, "Buy cheap things at spam.example."))
    await send_webmention(site, source, target)
    await verified(site, source, target)
    # Then the new text waits for the author instead of replacing the approved one on the page
    page = await post_page(site, post)
    assert "Buy cheap things" not in page and "A kind reply." not in page
    changed = await site.ctx.comments.get_comment(comment_id or 0)
    assert changed is not None and changed.status == CommentStatus.PENDING
