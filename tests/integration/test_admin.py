"""The author's admin on the real app: login, sessions, CSRF, posts, the moderation queue, replies, commenters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from fedblog.models import CommentStatus
from tests.conftest import ADMIN_PASSWORD, LiveSite, SiteFactory
from tests.helpers import log_in, thread_parents
from tests.integration.blog_support import Page, add_comment, get, new_session, post_form, publish
from tests.integration.studio_support import Admin, post_fields


def set_cookie_header(page: Page) -> str:
    return "; ".join(value for value in page.headers.getall("Set-Cookie", []) if value.startswith("fedblog_admin="))


# Login and sessions


async def test_login__wrong_password_is_refused_without_a_session(site: LiveSite) -> None:
    async with new_session() as session:
        page = await log_in(site, session, password="wrong password")
        assert page.status == 401
        assert "Wrong password." in page.text
        assert set_cookie_header(page) == ""
        assert (await get(site, "/admin", session)).status == 303


async def test_login__right_password_opens_the_dashboard(site: LiveSite) -> None:
    async with new_session() as session:
        page = await log_in(site, session)
        assert page.status == 303 and page.headers["Location"] == "/admin"
        dashboard = await get(site, "/admin", session)
        assert dashboard.status == 200
        assert "<h1>Dashboard</h1>" in dashboard.text
        assert dashboard.headers["Cache-Control"] == "no-store"


async def test_login__rate_limited_after_five_failures(site: LiveSite) -> None:
    async with new_session() as session:
        for _ in range(5):
            assert (await log_in(site, session, password="guess")).status == 401
        page = await log_in(site, session)  # even the right password waits now
        assert page.status == 429
        assert int(page.headers["Retry-After"]) > 0
        assert "Too many failed login attempts" in page.text
        assert set_cookie_header(page) == ""


async def test_login__cookie_is_httponly_and_samesite_without_secure_over_http(site: LiveSite) -> None:
    async with new_session() as session:
        cookie = set_cookie_header(await log_in(site, session))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


async def test_login__cookie_is_secure_under_an_https_base_url(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"site": {"base_url": "https://blog.example"}})
    async with (
        new_session() as session,
        session.post(
            f"http://127.0.0.1:{site.port}/admin/login", data={"password": ADMIN_PASSWORD}, allow_redirects=False
        ) as response,
    ):
        cookie = "; ".join(response.headers.getall("Set-Cookie", []))
    assert "fedblog_admin=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_login__form_posted_from_another_site_is_refused(site: LiveSite) -> None:
    async with new_session() as session:
        page = await log_in(site, session, headers={"Origin": "https://evil.example"})
        assert page.status == 403
        assert set_cookie_header(page) == ""


async def test_login__without_a_password_hash_nobody_gets_in(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"admin": {"password_hash": ""}})
    async with new_session() as session:
        login = await get(site, "/admin/login", session)
        assert "No admin password is set yet" in login.text
        for password in ("", ADMIN_PASSWORD):
            page = await log_in(site, session, password=password)
            assert page.status == 401 and set_cookie_header(page) == ""


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/admin", "/\\evil.example", "http:/evil.example", "evil.example", "/\t/x"],
)
async def test_login__next_never_leaves_the_site(site: LiveSite, target: str) -> None:
    async with new_session() as session:
        page = await log_in(site, session, next=target)
    assert page.status == 303
    assert page.headers["Location"] == "/admin"


async def test_login__next_brings_the_admin_back_where_they_were(site: LiveSite) -> None:
    async with new_session() as session:
        first = await get(site, "/admin/comments?status=spam", session)
        assert first.status == 303
        location = urlsplit(first.headers["Location"])
        assert location.path == "/admin/login"
        assert parse_qs(location.query) == {"next": ["/admin/comments?status=spam"]}
        login = await get(site, first.headers["Location"], session)
        assert 'name="next" value="/admin/comments?status=spam"' in login.text
        page = await log_in(site, session, next="/admin/comments?status=spam")
    assert page.headers["Location"] == "/admin/comments?status=spam"


@pytest.mark.parametrize("path", ["/admin", "/admin/posts", "/admin/posts/new", "/admin/comments", "/admin/commenters"])
async def test_admin__unauthenticated_pages_redirect_to_login(site: LiveSite, path: str) -> None:
    page = await get(site, path)
    assert page.status == 303
    assert page.headers["Location"].startswith("/admin/login?next=")
    assert page.headers["Cache-Control"] == "no-store"


async def test_admin__unauthenticated_post_changes_nothing(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    comment = await add_comment(site, post, "Held", approve=False)
    async with new_session() as session:
        page = await post_form(site, f"/admin/comments/{comment.id}/approve", {"csrf_token": "x"}, session)
    assert page.status == 303 and page.headers["Location"].startswith("/admin/login")
    stored = await site.ctx.comments.get_comment(comment.id)
    assert stored is not None and stored.status == CommentStatus.PENDING


async def test_logout__ends_the_session(admin: Admin) -> None:
    page = await admin.post("/admin/logout", {})
    assert page.status == 303 and page.headers["Location"] == "/admin/login"
    assert (await admin.get("/admin")).status == 303


# CSRF


async def test_csrf__missing_token_is_403_and_no_post_is_created(admin: Admin) -> None:
    page = await admin.post("/admin/posts/new", {"title": "Forged", "body": "x", "action": "publish"}, with_csrf=False)
    assert page.status == 403
    assert (await get(admin.site, "/posts/forged")).status == 404
    assert await admin.site.ctx.posts.list_all() == []


async def test_csrf__wrong_token_on_moderation_is_403_and_comment_stays_held(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    comment = await add_comment(admin.site, post, "Please approve me", approve=False)
    page = await post_form(admin.site, f"/admin/comments/{comment.id}/approve", {"csrf_token": "forged"}, admin.session)
    assert page.status == 403
    assert "Please approve me" not in (await get(admin.site, "/posts/hello")).text


async def test_csrf__logout_without_token_keeps_the_session(admin: Admin) -> None:
    assert (await admin.post("/admin/logout", {}, with_csrf=False)).status == 403
    assert (await admin.get("/admin")).status == 200


# Posts


async def test_posts__new_post_is_published_on_the_public_page(admin: Admin) -> None:
    page = await admin.post(
        "/admin/posts/new",
        post_fields(title="From the admin", tags="python, fediverse", body="Hello **world**", date="2026-02-21T10:30")
        | {"action": "publish"},
    )
    assert page.status == 303 and page.headers["Location"] == "/admin/posts/from-the-admin/edit?saved=published"
    public = await get(admin.site, "/posts/from-the-admin")
    assert public.status == 200
    assert "From the admin" in public.text and "<strong>world</strong>" in public.text
    assert "/tags/python" in public.text and "/tags/fediverse" in public.text
    assert "February 21, 2026" in public.text
    listing = await admin.get("/admin/posts")
    assert "From the admin" in listing.text


async def test_posts__allow_comments_is_checked_by_default_and_unchecking_closes_them(admin: Admin) -> None:
    form = await admin.get("/admin/posts/new")
    assert '<input id="post-comments-open" name="comments_open" type="checkbox" checked>' in form.text
    opened = post_fields(title="Open", body="x", comments_open="on")
    await admin.post("/admin/posts/new", opened | {"action": "publish"})
    await admin.post("/admin/posts/new", post_fields(title="Closed", body="x") | {"action": "publish"})  # unchecked
    assert 'class="comment-form"' in (await get(admin.site, "/posts/open")).text
    closed = await get(admin.site, "/posts/closed")
    assert "Comments are closed." in closed.text and 'class="comment-form"' not in closed.text
    edit = await admin.get("/admin/posts/closed/edit")
    assert '<input id="post-comments-open" name="comments_open" type="checkbox">' in edit.text


async def test_posts__draft_is_listed_in_admin_but_not_public(admin: Admin) -> None:
    await admin.post("/admin/posts/new", post_fields(title="Secret plan", body="x") | {"action": "draft"})
    assert (await get(admin.site, "/posts/secret-plan")).status == 404
    listing = await admin.get("/admin/posts")
    assert "Secret plan" in listing.text and "Draft" in listing.text


async def test_posts__preview_renders_markdown_and_saves_nothing(admin: Admin) -> None:
    page = await admin.post(
        "/admin/posts/new",
        post_fields(title="Draft idea", body="# Big\n\n*lean* <script>alert(1)</script>") | {"action": "preview"},
    )
    assert page.status == 200
    assert "<em>lean</em>" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert 'value="Draft idea"' in page.text  # the form keeps what was typed
    assert await admin.site.ctx.posts.list_all() == []


async def test_posts__invalid_post_keeps_input_and_shows_the_error(admin: Admin) -> None:
    page = await admin.post("/admin/posts/new", post_fields(title="", body="Kept body") | {"action": "draft"})
    assert page.status == 400
    assert "Kept body" in page.text
    assert 'id="post-title-error"' in page.text
    assert await admin.site.ctx.posts.list_all() == []


async def test_posts__edit_changes_the_public_page_and_keeps_the_slug(admin: Admin) -> None:
    post = await publish(admin.site, "Original title", body="Old text")
    form = await admin.get(f"/admin/posts/{post.slug}/edit")
    assert "Old text" in form.text
    page = await admin.post(
        f"/admin/posts/{post.slug}/edit",
        post_fields(title="New title", slug="hijacked", body="New text") | {"action": "publish"},
    )
    assert page.status == 303
    public = await get(admin.site, f"/posts/{post.slug}")
    assert "New title" in public.text and "New text" in public.text and "Old text" not in public.text
    assert (await get(admin.site, "/posts/hijacked")).status == 404


async def test_posts__delete_asks_first_then_removes_the_post(admin: Admin) -> None:
    post = await publish(admin.site, "Doomed")
    confirm = await admin.get(f"/admin/posts/{post.slug}/delete")
    assert confirm.status == 200 and "Delete for good" in confirm.text
    assert (await get(admin.site, "/posts/doomed")).status == 200  # asking deletes nothing
    page = await admin.post(f"/admin/posts/{post.slug}/delete", {"confirm_title": "Doomed"})
    assert page.status == 303 and page.headers["Location"] == "/admin/posts?deleted=doomed"
    assert (await get(admin.site, "/posts/doomed")).status == 410  # gone, not "never existed"


# Moderation


async def test_queue__shows_pending_comment_with_email_ip_and_post(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    result = await add_comment(admin.site, post, "Held message", email="held@example.org", approve=False)
    queue = await admin.get("/admin/comments")
    assert queue.status == 200 and queue.headers["Cache-Control"] == "no-store"
    assert "Held message" in queue.text and "held@example.org" in queue.text
    assert f'id="comment-{result.id}"' in queue.text
    assert "/posts/hello" in queue.text
    assert "held@example.org" not in (await get(admin.site, "/posts/hello")).text


async def test_queue__approve_shows_the_comment_on_the_post(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    comment = await add_comment(admin.site, post, "Please approve me", approve=False)
    assert "Please approve me" not in (await get(admin.site, "/posts/hello")).text
    page = await admin.post(f"/admin/comments/{comment.id}/approve", {"tab": "pending"})
    assert page.status == 303
    assert page.headers["Location"] == f"/admin/comments?status=pending&done=approve#comment-{comment.id}"
    assert "Please approve me" in (await get(admin.site, "/posts/hello")).text
    approved_tab = await admin.get("/admin/comments?status=approved")
    assert "Please approve me" in approved_tab.text
    assert "Please approve me" not in (await admin.get("/admin/comments?status=pending")).text


async def test_queue__spam_hides_the_comment(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    comment = await add_comment(admin.site, post, "Buy cheap things")
    assert "Buy cheap things" in (await get(admin.site, "/posts/hello")).text
    await admin.post(f"/admin/comments/{comment.id}/spam", {"tab": "approved"})
    assert "Buy cheap things" not in (await get(admin.site, "/posts/hello")).text
    assert "Buy cheap things" in (await admin.get("/admin/comments?status=spam")).text


async def test_queue__delete_removes_the_comment_everywhere(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    comment = await add_comment(admin.site, post, "Short-lived")
    await admin.post(f"/admin/comments/{comment.id}/delete", {"tab": "approved"})
    assert "Short-lived" not in (await get(admin.site, "/posts/hello")).text
    assert "Short-lived" not in (await admin.get("/admin/comments?status=approved")).text
    assert await admin.site.ctx.comments.get_comment(comment.id) is None


async def test_queue__reply_as_author_is_nested_under_the_comment(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    question = await add_comment(admin.site, post, "A question?")
    page = await admin.post(f"/admin/comments/{question.id}/reply", {"message": "An *answer*.", "tab": "approved"})
    assert page.status == 303
    public = await get(admin.site, "/posts/hello")
    assert "An <em>answer</em>." in public.text
    parents = thread_parents(public.text)
    replies = [cid for cid, parent in parents.items() if parent == question.id]
    assert len(replies) == 1
    reply = await admin.site.ctx.comments.get_comment(replies[0])
    assert reply is not None and reply.origin.value == "author"


async def test_queue__reply_to_a_held_comment_approves_it_first(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    question = await add_comment(admin.site, post, "Held question", approve=False)
    await admin.post(f"/admin/comments/{question.id}/reply", {"message": "Welcome!", "tab": "pending"})
    public = await get(admin.site, "/posts/hello")
    assert "Held question" in public.text and "Welcome!" in public.text
    assert question.id in thread_parents(public.text).values()


async def test_queue__empty_reply_publishes_nothing(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    question = await add_comment(admin.site, post, "A question?")
    page = await admin.post(f"/admin/comments/{question.id}/reply", {"message": "   ", "tab": "approved"})
    assert "error=empty" in page.headers["Location"]
    assert len(await admin.site.ctx.comments.list_visible_for_post(post.id)) == 1


async def test_queue__pages_of_fifty_newest_first_and_moderation_stays_on_its_page(admin: Admin) -> None:
    # Given 55 held comments (a spam wave)
    post = await publish(admin.site, "Hello")
    held = [await add_comment(admin.site, post, f"Held number {n}.", approve=False) for n in range(55)]
    # Then the queue shows the newest 50, and the 5 oldest on page 2
    first = await admin.get("/admin/comments?status=pending")
    second = await admin.get("/admin/comments?status=pending&page=2")
    assert "Held number 54." in first.text and "Held number 5." in first.text and "Held number 4." not in first.text
    assert "Page 1 of 2" in first.text and 'href="/admin/comments?status=pending&amp;page=2"' in first.text
    assert [f"Held number {n}." in second.text for n in (4, 0, 5)] == [True, True, False]
    assert "Page 2 of 2" in second.text and "Pending (55)" in second.text
    # When one is approved from page 2, the admin comes back to page 2
    answer = await admin.post(f"/admin/comments/{held[0].id}/approve", {"tab": "pending", "page": "2"})
    assert answer.headers["Location"] == f"/admin/comments?status=pending&page=2&done=approve#comment-{held[0].id}"
    after = await admin.get("/admin/comments?status=pending&page=2")
    assert "Held number 0." not in after.text and "Held number 1." in after.text
    # A page past the end shows the last one
    assert "Page 2 of 2" in (await admin.get("/admin/comments?status=pending&page=9")).text


async def test_queue__unknown_comment_is_404(admin: Admin) -> None:
    assert (await admin.post("/admin/comments/999/approve", {})).status == 404


async def test_commenters__lists_approved_commenters_only(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    await add_comment(admin.site, post, "Approved one", name="Dominique", email="dom@example.org")
    await add_comment(admin.site, post, "Held one", name="Sacha", email="sacha@example.org", approve=False)
    page = await admin.get("/admin/commenters")
    assert page.status == 200
    assert "Dominique" in page.text and "dom@example.org" in page.text
    assert "Sacha" not in page.text


async def test_dashboard__counts_pending_comments_and_posts(admin: Admin) -> None:
    post = await publish(admin.site, "Hello")
    await publish(admin.site, "Later", draft=True)
    await add_comment(admin.site, post, "one", approve=False)
    await add_comment(admin.site, post, "two", email="other@example.org", approve=False)
    page = await admin.get("/admin")
    assert '<strong id="count-pending">2</strong>' in page.text
    assert '<strong id="count-published">1</strong>' in page.text
    assert '<strong id="count-drafts">1</strong>' in page.text


async def test_admin__pages_are_in_french_for_a_french_site(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    async with new_session() as session:
        login = await get(site, "/admin/login", session)
        assert "Mot de passe" in login.text
        await log_in(site, session)
        page = await get(site, "/admin/comments", session)
    assert "En attente" in page.text and "Commentaires" in page.text


ADMIN_TEMPLATES = (
    "layout",
    "login",
    "dashboard",
    "posts",
    "post_form",
    "post_delete",
    "comments",
    "commenters",
)


def test_translations__every_admin_string_has_a_french_translation() -> None:
    from babel.messages.extract import extract_from_file

    from fedblog.i18n import translations_for
    from fedblog.web.render import TEMPLATES_DIR

    french = translations_for("fr")
    missing = []
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    for name in ADMIN_TEMPLATES:
        for _line, message, _comments, _context in extract_from_file(
            "jinja2", str(TEMPLATES_DIR / "admin" / f"{name}.html"), options=options
        ):
            singular = message if isinstance(message, str) else message[0]
            if french.gettext(singular) == singular and singular not in ("Date", "Actions", "webmention", "Date (UTC)"):
                missing.append(singular)
    assert missing == []
