"""Publishing is deliberate, from the site's and the fediverse's side: scheduled posts stay out of every public
place until their time and are then published and delivered by the worker (a restart in between loses nothing);
unpublishing sends a Delete and makes the address answer 410; drafts have an editable slug and a private preview;
the editor asks before a post reaches followers, refuses an empty body, and deletion wants the title typed."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from fedblog.app import create_app
from fedblog.assembly import open_context
from fedblog.clock import utcnow
from fedblog.config import load_settings
from fedblog.models import PostState, post_state
from fedblog.services.posts import PostInput, PostService
from fedblog.store.outbox import OutboxStore
from tests.conftest import LiveSite, free_port, make_site
from tests.fakes.remote import RemoteInstance, start_remote
from tests.helpers import add_follower, eventually
from tests.integration.blog_support import get, publish
from tests.integration.fed_support import AS2, fetch
from tests.integration.studio_support import Admin, post_fields

SOON = timedelta(seconds=3)
PUBLISH = {"action": "publish"}
DRAFT = {"action": "draft"}


def activities_of(remote: RemoteInstance, kind: str) -> list[dict]:
    return [received.activity for received in remote.received if received.activity.get("type") == kind]


async def public_places(site: LiveSite, slug: str, word: str) -> dict[str, bool]:
    """Where a visitor or a peer can find the post: True for each place that shows it."""
    home = await get(site, "/")
    feed = await get(site, "/feed.xml")
    sitemap = await get(site, "/sitemap.xml")
    search = await get(site, f"/search?q={word}")
    page = await get(site, f"/posts/{slug}")
    note_status, _headers, _text = await fetch(f"{site.url}/posts/{slug}", AS2)
    outbox = json.dumps([json.loads(body) for body in await OutboxStore(site.ctx.db).list_public_creates(50, 0)])
    return {
        "home": f"/posts/{slug}" in home.text,
        "feed": f"/posts/{slug}" in feed.text,
        "sitemap": f"/posts/{slug}" in sitemap.text,
        "search": f"/posts/{slug}" in search.text,
        "page": page.status == 200,
        "note": note_status == 200,
        "outbox": f"/posts/{slug}" in outbox,
    }


def test_post_state__one_rule_for_draft_scheduled_published() -> None:
    now = utcnow()
    assert post_state(True, now - SOON, now) is PostState.DRAFT
    assert post_state(True, now + SOON, now) is PostState.DRAFT
    assert post_state(False, now + SOON, now) is PostState.SCHEDULED
    assert post_state(False, now, now) is PostState.PUBLISHED
    assert post_state(False, now - SOON, now) is PostState.PUBLISHED


async def test_scheduled_post__hidden_everywhere_until_its_time_then_published_and_delivered(
    site: LiveSite, remotes: list[RemoteInstance]
) -> None:
    # Given a follower, and a post scheduled a few seconds ahead
    remote = await start_remote(remotes, site.ctx, "127.0.0.1")
    await add_follower(site.ctx, remote, "reader")
    due = utcnow() + SOON
    post = await PostService(site.ctx).publish(
        PostInput(title="Tomorrow's news", body_markdown="Embargoed zeppelin story", published_at=due)
    )
    assert post.state is PostState.SCHEDULED and not post.is_public
    # Then it is nowhere yet, and nothing was sent
    assert await public_places(site, post.slug, "zeppelin") == dict.fromkeys(
        ("home", "feed", "sitemap", "search", "page", "note", "outbox"), False
    )
    assert activities_of(remote, "Create") == []

    # When its time comes, the worker publishes it and delivers its Create
    await eventually(lambda: _async(activities_of(remote, "Create")), "the scheduled post's Create", timeout=30)
    assert utcnow() >= due
    create = activities_of(remote, "Create")[0]
    assert create["object"]["id"] == f"{site.url}/posts/{post.slug}"
    assert create["object"]["published"].startswith(due.strftime("%Y-%m-%dT%H:%M"))
    assert all((await public_places(site, post.slug, "zeppelin")).values())
    published = await site.ctx.posts.get_post_by_slug(post.slug)
    assert published is not None and published.state is PostState.PUBLISHED
    assert len(activities_of(remote, "Create")) == 1  # published once


async def _async(value: object) -> object:
    return value


async def test_scheduled_post__a_restart_before_its_time_loses_nothing(
    tmp_path: Path, remotes: list[RemoteInstance]
) -> None:
    overrides = {"federation": {"allow_private_addresses": True}}
    config = make_site(tmp_path / "site", "http://127.0.0.1:9", overrides=overrides)
    settings = load_settings(config, environ={})
    # Scheduled from a process that stops before the time (the CLI, or a server that is restarted)
    async with open_context(settings) as ctx:
        remote = await start_remote(remotes, ctx, "127.0.0.1")
        await add_follower(ctx, remote, "reader")
        await PostService(ctx).publish(
            PostInput(title="While you were away", body_markdown="Still goes out", published_at=utcnow() + SOON)
        )
    # A server started later publishes it at its time and delivers it
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", free_port()).start()
    try:
        await eventually(lambda: _async(activities_of(remote, "Create")), "the Create after a restart", timeout=30)
    finally:
        await runner.cleanup()
    async with open_context(settings) as ctx:
        post = await ctx.posts.get_post_by_slug("while-you-were-away")
        assert post is not None and post.state is PostState.PUBLISHED
    assert len(activities_of(remote, "Create")) == 1


async def test_unpublish__deletes_the_note_then_410_until_published_again(
    admin: Admin, remotes: list[RemoteInstance]
) -> None:
    site = admin.site
    remote = await start_remote(remotes, site.ctx, "127.0.0.1")
    await add_follower(site.ctx, remote, "reader")
    post = await publish(site, "Second thoughts", body="I may regret this")
    await eventually(lambda: _async(activities_of(remote, "Create")), "the Create")
    # When the author unpublishes it from the editor
    values = post_fields(title=post.title, body=post.body_markdown, comments_open="on")
    answer = await admin.post(f"/admin/posts/{post.slug}/edit", values | {"action": "unpublish"})
    assert answer.status == 303 and answer.headers["Location"].endswith("?saved=draft")
    # Then followers get a Delete of the Note, and its address answers 410 to browsers and peers
    deletes = await eventually(lambda: _async(activities_of(remote, "Delete")), "the Delete")
    assert deletes[0]["object"]["id"] == f"{site.url}/posts/{post.slug}"
    page = await get(site, f"/posts/{post.slug}")
    assert page.status == 410 and "This post is no longer here" in page.text
    status, _headers, text = await fetch(f"{site.url}/posts/{post.slug}", AS2)
    assert status == 410 and json.loads(text)["type"] == "Tombstone"
    listing = await admin.get("/admin/posts")
    drafts = listing.text.split('id="posts-drafts"', 1)[1]
    assert "Second thoughts" in drafts
    # Published again: back at the same address, and a new Create
    answer = await admin.post(f"/admin/posts/{post.slug}/edit", values | {"action": "publish-confirmed"})
    assert answer.status == 303
    assert (await get(site, f"/posts/{post.slug}")).status == 200
    await eventually(lambda: _async(len(activities_of(remote, "Create")) == 2), "the second Create")


async def test_editor__publish_asks_first_when_followers_will_receive_it(
    admin: Admin, remotes: list[RemoteInstance]
) -> None:
    site = admin.site
    remote = await start_remote(remotes, site.ctx, "127.0.0.1")
    for name in ("ana", "bo"):
        await add_follower(site.ctx, remote, name)
    values = post_fields(title="Big news", body="Read this")
    asked = await admin.post("/admin/posts/new", values | {"action": "publish"})
    assert asked.status == 200
    assert "This post will be sent at once to 2 followers on the fediverse." in asked.text
    assert 'value="Big news"' in asked.text  # the form is kept as typed
    assert await site.ctx.posts.list_all() == []  # nothing saved, nothing sent
    done = await admin.post("/admin/posts/new", values | {"action": "publish-confirmed"})
    assert done.status == 303 and done.headers["Location"] == "/admin/posts/big-news/edit?saved=published"
    assert (await get(site, "/posts/big-news")).status == 200
    # An update asks too, saying what will be sent
    update = await admin.post("/admin/posts/big-news/edit", values | {"action": "publish"})
    assert "The changes will be sent to 2 followers on the fediverse." in update.text
    # A scheduled post says when
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    schedule = await admin.post("/admin/posts/new", post_fields(title="Later", body="x", date=later) | PUBLISH)
    assert "this post will be sent to 2 followers on the fediverse." in schedule.text and "On " in schedule.text
    # A post that would be refused shows its error, not the question
    empty = await admin.post("/admin/posts/new", post_fields(title="Empty", body="  ") | {"action": "publish"})
    assert empty.status == 400 and "sent at once" not in empty.text


async def test_editor__empty_body_is_refused_for_publishing_and_kept_as_a_draft(admin: Admin) -> None:
    refused = await admin.post("/admin/posts/new", post_fields(title="Half typed", body="") | {"action": "publish"})
    assert refused.status == 400
    assert 'id="post-body-error"' in refused.text and "required to publish" in refused.text
    assert await admin.site.ctx.posts.list_all() == []
    kept = await admin.post("/admin/posts/new", post_fields(title="Half typed", body="") | {"action": "draft"})
    assert kept.status == 303 and kept.headers["Location"] == "/admin/posts/half-typed/edit?saved=draft"
    assert (await get(admin.site, "/posts/half-typed")).status == 404


async def test_editor__an_unknown_or_missing_action_never_publishes(admin: Admin) -> None:
    # What a browser sends when Enter submits a form whose default button is missing, or an old form's "save"
    for action in ({}, {"action": "save"}):
        slug = f"enter-{len(action)}"
        answer = await admin.post("/admin/posts/new", post_fields(title=slug, body="Text") | action)
        assert answer.status == 303 and answer.headers["Location"].endswith("?saved=draft")
        assert (await get(admin.site, f"/posts/{slug}")).status == 404


async def test_admin_posts__scheduled_posts_are_listed_apart_with_their_time(admin: Admin) -> None:
    due = (utcnow() + timedelta(days=3)).replace(hour=9, minute=30, second=0)
    await PostService(admin.site.ctx).publish(PostInput(title="Coming up", body_markdown="x", published_at=due))
    await publish(admin.site, "Already out")
    listing = await admin.get("/admin/posts")
    scheduled = listing.text.split('id="posts-scheduled"', 1)[1].split("</section>", 1)[0]
    assert "Coming up" in scheduled and "Already out" not in scheduled
    assert "9:30" in scheduled and f'datetime="{due.isoformat()}"' in scheduled
    published = listing.text.split('id="posts-published"', 1)[1]
    assert "Already out" in published
    editor = await admin.get("/admin/posts/coming-up/edit")
    assert "Scheduled for" in editor.text and 'value="' + due.strftime("%Y-%m-%dT%H:%M") + '"' in editor.text


async def test_draft__slug_editable_until_first_publication(admin: Admin) -> None:
    await admin.post("/admin/posts/new", post_fields(title="Working title", body="x") | {"action": "draft"})
    editor = await admin.get("/admin/posts/working-title/edit")
    assert re.search(r'<input id="post-slug" name="slug" type="text" maxlength="80"', editor.text)
    renamed = await admin.post(
        "/admin/posts/working-title/edit",
        post_fields(title="Final title", slug="final-title", body="x") | {"action": "draft"},
    )
    assert renamed.status == 303 and renamed.headers["Location"] == "/admin/posts/final-title/edit?saved=draft"
    assert (await admin.get("/admin/posts/working-title/edit")).status == 404
    taken = await publish(admin.site, "Taken")
    clash = await admin.post(
        "/admin/posts/final-title/edit", post_fields(title="Final title", slug=taken.slug, body="x") | DRAFT
    )
    assert clash.status == 400 and 'id="post-slug-error"' in clash.text
    await admin.post("/admin/posts/final-title/edit", post_fields(title="Final title", body="x") | PUBLISH)
    # Once published, the slug is the post's address and its Note id: it stays
    editor = await admin.get("/admin/posts/final-title/edit")
    assert 'name="slug" type="text" value="final-title" readonly' in editor.text
    await admin.post(
        "/admin/posts/final-title/edit", post_fields(title="Final title", slug="other", body="x") | PUBLISH
    )
    assert (await get(admin.site, "/posts/final-title")).status == 200
    assert (await get(admin.site, "/posts/other")).status == 404


async def test_draft__private_preview_is_signed_unguessable_and_not_indexed(admin: Admin) -> None:
    await admin.post("/admin/posts/new", post_fields(title="Sneak peek", body="Not *yet*") | {"action": "draft"})
    editor = await admin.get("/admin/posts/sneak-peek/edit")
    match = re.search(r'id="private-preview-link" href="([^"]+)"', editor.text)
    assert match
    link = match.group(1)
    assert re.fullmatch(re.escape(admin.site.url) + r"/preview/\d+-[A-Za-z0-9_-]{32}", link)
    assert f'<a href="{link}" rel="nofollow">Preview</a>' in (await admin.get("/admin/posts")).text
    # Anyone with the link (no admin cookie) sees the draft, marked as a preview, kept out of indexes and caches
    status, headers, text = await fetch(link, "text/html")
    assert status == 200 and "Sneak peek" in text and "<em>yet</em>" in text
    assert "Preview of a draft" in text and '<meta name="robots" content="noindex' in text
    assert headers["X-Robots-Tag"].startswith("noindex") and "no-store" in headers["Cache-Control"]
    assert headers["Referrer-Policy"] == "no-referrer"
    # A changed signature or another post's id finds nothing
    post_id, signature = link.rsplit("/", 1)[1].split("-", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for token in (f"{post_id}-{flipped}", f"{int(post_id) + 1}-{signature}", post_id, "x-y"):
        assert (await fetch(f"{admin.site.url}/preview/{token}", "text/html"))[0] == 404
    # Published, the preview link leads to the real page
    await admin.post("/admin/posts/sneak-peek/edit", post_fields(title="Sneak peek", body="Not *yet*") | PUBLISH)
    status, headers, _text = await fetch(link, "text/html")
    assert status == 303 and headers["Location"] == f"{admin.site.url}/posts/sneak-peek"


async def test_delete__asks_for_the_title_to_be_typed(admin: Admin) -> None:
    post = await publish(admin.site, "Precious words")
    form = await admin.get(f"/admin/posts/{post.slug}/delete")
    assert 'name="confirm_title"' in form.text
    for typed in ("", "precious", "Precious word"):
        refused = await admin.post(f"/admin/posts/{post.slug}/delete", {"confirm_title": typed})
        assert refused.status == 400 and "Type the title exactly" in refused.text
        assert (await get(admin.site, f"/posts/{post.slug}")).status == 200
    done = await admin.post(f"/admin/posts/{post.slug}/delete", {"confirm_title": "  Precious words "})
    assert done.status == 303
    assert (await get(admin.site, f"/posts/{post.slug}")).status == 410


async def test_closed_post_without_comments__says_only_that_comments_are_closed(site: LiveSite) -> None:
    post = await PostService(site.ctx).publish(PostInput(title="Quiet", body_markdown="x", comments_open=False))
    page = await get(site, f"/posts/{post.slug}")
    assert "Comments are closed." in page.text
    assert "Be the first" not in page.text
    assert "0 comments" not in page.text and 'id="comments"' not in page.text
    open_post = await publish(site, "Chatty")
    assert "Be the first to reply!" in (await get(site, f"/posts/{open_post.slug}")).text


async def test_home__excerpts_leave_out_headings_and_code_and_continue_reading_only_when_there_is_more(
    site: LiveSite,
) -> None:
    await publish(site, "Short note", body="All of it, in *one* line.")
    tutorial = "# Setup\n\nFirst, the idea.\n\n```\nmake install\n```\n\n| a |\n|---|\n| b |\n"
    await publish(site, "Tutorial", body=tutorial)
    home = await get(site, "/")
    articles = {
        title: home.text.split(f">{title}</a></h2>", 1)[1].split("</article>", 1)[0]
        for title in ("Short note", "Tutorial")
    }
    assert "All of it, in one line." in articles["Short note"] and "Continue reading" not in articles["Short note"]
    assert '<p class="p-summary">First, the idea.</p>' in articles["Tutorial"]
    assert "Continue reading" in articles["Tutorial"]
    assert "make install" not in articles["Tutorial"] and "Setup" not in articles["Tutorial"]
    feed = await get(site, "/feed.xml")
    assert "<summary>First, the idea.</summary>" in feed.text


async def test_dashboard__a_scheduled_post_is_neither_a_draft_nor_published(admin: Admin) -> None:
    later = utcnow() + timedelta(days=1)
    await PostService(admin.site.ctx).publish(PostInput(title="Queued up", body_markdown="x", published_at=later))
    await publish(admin.site, "Idea", draft=True)
    await publish(admin.site, "Out")
    page = await admin.get("/admin")
    assert '<strong id="count-drafts">1</strong>' in page.text
    assert '<strong id="count-published">1</strong>' in page.text
    assert '>Queued up</a> <span class="badge">Scheduled</span>' in page.text
