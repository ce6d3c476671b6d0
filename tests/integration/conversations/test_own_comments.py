"""A visitor's own comment, through the real form and cookies: edit and delete within the window (sent to the
fediverse as Update and Delete when the comment went there), held comments seen again on later visits, the saved
details, and the author's edit from the admin."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import aiohttp

from fedblog.clock import utcnow
from fedblog.models import Comment, Post
from fedblog.services.comments import CommentService
from fedblog.web.keys import STATE_KEY
from tests.conftest import ADMIN_PASSWORD, LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import fediverse_comment, publish, received
from tests.integration.blog_support import csrf_token, get, new_session, post_form, submit_comment

VISITOR = {"name": "Vera", "email": "vera@example.org", "message": "Me too, with a tpyo."}


async def newest_comment(site: LiveSite) -> Comment:
    return (await site.ctx.comments.list_by_status())[0]


def later(site: LiveSite, minutes: int) -> None:
    """The edit window is read on the site's visitor clock: move it forward instead of sleeping."""
    moment = utcnow() + timedelta(minutes=minutes)
    site.app[STATE_KEY].visitor_clock = lambda: moment


async def edit(site: LiveSite, session: aiohttp.ClientSession, comment: Comment, message: str) -> int:
    form_page = await get(site, f"/comments/{comment.id}/edit", session)
    token = csrf_token(form_page.text) if form_page.status == 200 else "none"
    answer = await post_form(site, f"/comments/{comment.id}/edit", {"csrf_token": token, "message": message}, session)
    return answer.status


async def test_own_comment__edited_within_the_window_goes_out_as_update_and_not_after(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a visitor's web reply to a fediverse comment, published and delivered to its author
    post = await publish(site)
    parent = await fediverse_comment(site, remote, post)
    async with new_session() as writer, new_session() as stranger:
        sent = await submit_comment(site, post.slug, writer, **VISITOR, parent_id=str(parent.id))
        assert sent.status == 303
        mine = await newest_comment(site)
        await received(remote, "Create", "the visitor's reply")
        # The writer's page offers the edit; nobody else's does, and nobody else may edit
        assert f'href="{site.url}/comments/{mine.id}/edit"' in (await get(site, f"/posts/{post.slug}", writer)).text
        assert f"/comments/{mine.id}/edit" not in (await get(site, f"/posts/{post.slug}", stranger)).text
        assert await edit(site, stranger, mine, "Hijacked") == 403
        # When the writer fixes the typo within the window
        form_page = await get(site, f"/comments/{mine.id}/edit", writer)
        assert form_page.status == 200 and "Me too, with a tpyo.</textarea>" in form_page.text
        assert await edit(site, writer, mine, "Me too, with a typo fixed.") == 303
        # Then everyone sees the new text marked edited, and the remote author's server gets an Update
        text = (await get(site, f"/posts/{post.slug}", stranger)).text
        assert "Me too, with a typo fixed." in text and "tpyo" not in text and "Hijacked" not in text
        assert re.search(rf'id="comment-{mine.id}".*?class="edited"', text, flags=re.DOTALL)
        update = await received(remote, "Update", "the Update of the edited reply")
        assert update["object"]["id"] == site.ctx.urls.comment_object(mine.id)
        assert "Me too, with a typo fixed." in update["object"]["content"]
        assert update["object"]["updated"]
        # And once the window has passed, the link is gone and an edit is refused
        later(site, 16)
        assert f"/comments/{mine.id}/edit" not in (await get(site, f"/posts/{post.slug}", writer)).text
        assert (await get(site, f"/comments/{mine.id}/edit", writer)).status == 403
        assert await edit(site, writer, mine, "Too late") == 403
    assert "Too late" not in (await get(site, f"/posts/{post.slug}")).text


async def test_own_comment__deleted_within_the_window_goes_out_as_delete(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    parent = await fediverse_comment(site, remote, post)
    async with new_session() as writer:
        await submit_comment(site, post.slug, writer, **VISITOR, parent_id=str(parent.id))
        mine = await newest_comment(site)
        await received(remote, "Create", "the visitor's reply")
        form_page = await get(site, f"/comments/{mine.id}/edit", writer)
        answer = await post_form(
            site, f"/comments/{mine.id}/delete", {"csrf_token": csrf_token(form_page.text)}, writer
        )
    assert answer.status == 303 and answer.headers["Location"] == f"{site.url}/posts/{post.slug}#comments"
    assert "tpyo" not in (await get(site, f"/posts/{post.slug}")).text
    delete = await received(remote, "Delete", "the Delete of the removed reply")
    assert delete["object"] == {**delete["object"], "id": site.ctx.urls.comment_object(mine.id), "type": "Tombstone"}


async def test_own_comment__a_forged_or_foreign_cookie_edits_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    async with new_session() as writer:
        await submit_comment(site, post.slug, writer, **VISITOR)
    mine = await newest_comment(site)
    async with new_session() as forger:
        forger.cookie_jar.update_cookies({"fedblog_own": f"{mine.id}.AAAAAAAAAAAAAAAAAAAA"})
        assert (await get(site, f"/comments/{mine.id}/edit", forger)).status == 403
        assert f"/comments/{mine.id}/edit" not in (await get(site, f"/posts/{post.slug}", forger)).text


async def test_held_comment__seen_by_its_writer_on_every_later_visit(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"rate_limit_per_minute": 100}})  # first_time: held
    post: Post = await publish(site)
    async with new_session() as writer, new_session() as stranger:
        sent = await submit_comment(site, post.slug, writer, **{**VISITOR, "message": "Waiting words"})
        assert "?held=" in sent.headers["Location"]
        later(site, 24 * 60)  # a day later, the plain post URL, from the same browser
        again = await get(site, f"/posts/{post.slug}", writer)
        assert "Your comment is awaiting moderation." in again.text and "Waiting words" in again.text
        assert again.headers["Cache-Control"] == "private, no-store"
        other = await get(site, f"/posts/{post.slug}", stranger)
        assert "Waiting words" not in other.text and "awaiting moderation" not in other.text
        # Once approved, it is an ordinary comment, for everyone
        await CommentService(site.ctx).approve((await newest_comment(site)).id)
        assert "awaiting moderation" not in (await get(site, f"/posts/{post.slug}", writer)).text
        assert "Waiting words" in (await get(site, f"/posts/{post.slug}", stranger)).text


async def test_saved_details__only_when_ticked_and_forgotten_when_not(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open", "rate_limit_per_minute": 100}})
    post = await publish(site)
    async with new_session() as visitor:
        first = await submit_comment(site, post.slug, visitor, **VISITOR, website="vera.example", remember="on")
        assert first.status == 303
        later(site, 60)  # past the edit window: the page is personal only for the saved details
        form = (await get(site, f"/posts/{post.slug}", visitor)).text
        assert 'value="Vera"' in form and 'value="vera@example.org"' in form
        assert 'value="https://vera.example"' in form
        assert re.search(r'id="comment-remember" name="remember" type="checkbox" value="on" checked', form)
        # Not ticked the next time: forgotten
        await submit_comment(site, post.slug, visitor, **{**VISITOR, "message": "Second"})
        form = (await get(site, f"/posts/{post.slug}", visitor)).text
        assert 'value="vera@example.org"' not in form
    async with new_session() as unticked:
        await submit_comment(site, post.slug, unticked, **VISITOR)
        later(site, 60)
        assert 'value="vera@example.org"' not in (await get(site, f"/posts/{post.slug}", unticked)).text


async def test_admin_edit__any_comment_gets_new_text_and_the_edited_note(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    remote_comment = await fediverse_comment(site, remote, post, "<p>Spam link here</p>")
    async with new_session() as admin:
        login = await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, admin)
        assert login.status == 303
        queue = await get(site, "/admin/comments?status=approved", admin)
        token = re.search(r'name="csrf_token" value="([^"]+)"', queue.text)
        assert token and "&lt;p&gt;Spam link here&lt;/p&gt;</textarea>" in queue.text  # its HTML (see below)
        answer = await post_form(
            site,
            f"/admin/comments/{remote_comment.id}/edit",
            {"csrf_token": token.group(1), "tab": "approved", "text": "Link removed by the author."},
            admin,
        )
    assert answer.status == 303 and "done=edit" in answer.headers["Location"]
    text = (await get(site, f"/posts/{post.slug}")).text
    assert "Link removed by the author." in text and "Spam link here" not in text
    assert re.search(rf'id="comment-{remote_comment.id}".*?class="edited"', text, flags=re.DOTALL)


async def test_admin_edit__of_a_fediverse_comment_keeps_its_markup_sanitized(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a Mastodon reply with two paragraphs, a link and a mention
    post = await publish(site)
    written = (
        '<p>Hi <span class="h-card"><a href="https://social.example/@bob" class="u-url mention">@<span>bob</span></a>'
        '</span>, see <a href="https://example.org/paper">the paper</a></p><p>Second paragraph with a tpyo</p>'
    )
    remote_comment = await fediverse_comment(site, remote, post, written)
    async with new_session() as admin:
        assert (await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, admin)).status == 303
        queue = await get(site, "/admin/comments?status=approved", admin)
        token = re.search(r'name="csrf_token" value="([^"]+)"', queue.text)
        # The form holds its HTML (escaped in the textarea), not a flattened text
        assert token and "see &lt;a href=&#34;https://example.org/paper&#34;" in queue.text.replace("&quot;", "&#34;")
        # When the author fixes the typo in that HTML (and something slips in that must not)
        source = remote_comment.content_html.replace("tpyo", "typo") + "<script>alert(1)</script>"
        answer = await post_form(
            site,
            f"/admin/comments/{remote_comment.id}/edit",
            {"csrf_token": token.group(1), "tab": "approved", "text": source},
            admin,
        )
    assert answer.status == 303 and "done=edit" in answer.headers["Location"]
    # Then the page shows the fixed text with its link, mention and paragraphs, sanitized, marked edited
    text = (await get(site, f"/posts/{post.slug}")).text
    block = text[text.index(f'id="comment-{remote_comment.id}"') :]
    assert "Second paragraph with a typo" in block and "tpyo" not in block
    assert '<a href="https://example.org/paper"' in block and "the paper</a>" in block
    assert 'href="https://social.example/@bob"' in block
    assert "</p><p>" in block.replace("\n", "")
    assert "<script>alert" not in text
    assert re.search(r'class="edited"', block)


async def test_admin_edit__of_the_authors_own_comment_keeps_its_links(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    parent = await fediverse_comment(site, remote, post)
    mine = await CommentService(site.ctx).reply_as_author(parent.id, "See [the paper](https://example.org/p), tpyo.")
    async with new_session() as admin:
        assert (await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, admin)).status == 303
        queue = await get(site, "/admin/comments?status=approved", admin)
        token = re.search(r'name="csrf_token" value="([^"]+)"', queue.text)
        assert token
        source = re.search(rf'id="edit-{mine.id}"[^>]*>(.*?)</textarea>', queue.text, flags=re.DOTALL)
        assert source and "https://example.org/p" in source.group(1)  # the link is in the form, not only its words
        edited = html.unescape(source.group(1)).replace("tpyo", "typo")
        answer = await post_form(
            site, f"/admin/comments/{mine.id}/edit", {"csrf_token": token.group(1), "text": edited}, admin
        )
    assert answer.status == 303
    text = (await get(site, f"/posts/{post.slug}")).text
    assert '<a href="https://example.org/p"' in text and "the paper</a>, typo." in text
