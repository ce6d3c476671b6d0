"""The public comment form: validation, hostile input, CSRF, honeypot, limits, moderation, threads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from fedblog.models import Attachment, CommentOrigin, CommentStatus
from fedblog.services.comments import CommentService
from fedblog.store.comments import NewComment
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import (
    add_comment,
    csrf_token,
    field_block,
    get,
    new_session,
    post_form,
    publish,
    submit_comment,
)

VALID = {"name": "Dominique", "email": "dom@example.org", "website": "https://dom.example.org", "message": "Nice post."}
OPEN = {"comments": {"moderation": "open", "rate_limit_per_minute": 100}}
LENIENT = {"comments": {"rate_limit_per_minute": 100}}


async def stored_comments(site: LiveSite) -> list:
    return await site.ctx.comments.list_by_status()


async def test_form__missing_fields_show_errors_next_to_each_field_and_keep_input(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        page = await submit_comment(
            site, "post", session, name="Ana", email="", website="ftp://files.example", message="My words"
        )
    assert page.status == 400
    email = field_block(page.text, "email")
    assert "Please enter your email address." in email
    assert 'aria-invalid="true"' in email and 'aria-describedby="comment-email-error comment-email-hint"' in email
    website = field_block(page.text, "website")
    assert "The website must be an http:// or https:// address." in website
    assert 'value="ftp://files.example"' in website
    assert 'value="Ana"' in field_block(page.text, "name")
    assert "Please enter your name." not in page.text
    assert ">My words</textarea>" in page.text
    assert await stored_comments(site) == []


async def test_form__bad_email_and_empty_message_are_refused(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        page = await submit_comment(site, "post", session, name="Ana", email="not-an-email", message="  ")
    assert page.status == 400
    assert "This email address does not look valid." in field_block(page.text, "email")
    assert "Please write a message." in page.text
    assert 'aria-invalid="true"' in page.text.split('id="comment-message"')[1].split(">")[0]


async def test_form__hostile_input_never_becomes_markup(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        refused = await submit_comment(site, "post", session, **{**VALID, "website": "javascript:alert(1)"})
        accepted = await submit_comment(
            site,
            "post",
            session,
            **{
                **VALID,
                "name": '<script>alert("name")</script>',
                "message": '<img src=x onerror=alert(1)> <script>alert(2)</script> "quoted" https://ok.example/a?b=1',
            },
        )
    assert refused.status == 400 and "javascript:alert(1)" not in refused.text.replace(
        'value="javascript:alert(1)"', ""
    )
    assert accepted.status == 303
    page = await get(site, "/posts/post")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert '<a href="https://ok.example/a?b=1" rel="nofollow ugc">https://ok.example/a?b=1</a>' in page.text


async def test_form__email_is_never_shown(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **VALID)
    assert answer.status == 303
    page = await get(site, "/posts/post")
    assert "Nice post." in page.text
    assert "dom@example.org" not in page.text
    assert '<a class="comment-author" href="https://dom.example.org" rel="nofollow ugc">Dominique</a>' in page.text
    assert "Never shown publicly." in field_block(page.text, "email")


async def test_form__missing_or_wrong_csrf_token_is_refused_and_nothing_stored(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        missing = await post_form(site, "/posts/post/comments", dict(VALID), session)
        wrong = await post_form(site, "/posts/post/comments", {**VALID, "csrf_token": "1.2.3"}, session)
    for answer in (missing, wrong):
        assert answer.status == 403
        assert "This form has expired" in answer.text
        assert ">Nice post.</textarea>" in answer.text  # what was typed comes back
    assert await stored_comments(site) == []


async def test_form__cross_site_origin_is_refused(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        page = await get(site, "/posts/post", session)
        data = {**VALID, "csrf_token": csrf_token(page.text)}
        answer = await post_form(
            site, "/posts/post/comments", data, session, headers={"Origin": "https://evil.example"}
        )
    assert answer.status == 403
    assert await stored_comments(site) == []


async def test_form__filled_honeypot_looks_accepted_but_stores_nothing(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **VALID, nickname="bot-filled")
    assert answer.status == 303
    assert await stored_comments(site) == []


async def test_form__honeypot_is_hidden_from_people(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    page = await get(site, "/posts/post")
    honeypot = re.search(r'<p class="hp" aria-hidden="true">.*?</p>', page.text, flags=re.DOTALL)
    assert honeypot and 'tabindex="-1"' in honeypot.group(0) and 'autocomplete="off"' in honeypot.group(0)
    css = await get(site, "/static/style.css")
    assert re.search(r"\.hp\s*\{[^}]*display:\s*none", css.text)


async def test_form__rate_limit_gives_the_form_back_with_the_text_and_the_wait(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"rate_limit_per_minute": 2}})
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answers = [await submit_comment(site, "post", session, **VALID) for _ in range(2)]
        typed = {**VALID, "message": "A long <thought> I would hate to type again."}
        answers.append(await submit_comment(site, "post", session, **typed))
    assert [answer.status for answer in answers] == [303, 303, 429]
    wait = int(answers[2].headers["Retry-After"])
    assert 0 < wait <= 61
    # The form comes back filled in, with how long to wait
    text = answers[2].text
    assert "A long &lt;thought&gt; I would hate to type again.</textarea>" in text
    assert 'value="Dominique"' in text and 'value="dom@example.org"' in text
    assert f"Please wait {wait} seconds and send it again." in text or f"Please wait {wait} second " in text
    assert 'name="csrf_token" value="' in text and "__fedblog_csrf_token__" not in text
    assert len(await stored_comments(site)) == 2


async def test_form__a_website_without_a_scheme_is_taken_as_https(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **{**VALID, "website": "jean.example"})
        refused = await submit_comment(site, "post", session, **{**VALID, "website": "javascript:alert(1)"})
    assert answer.status == 303 and refused.status == 400
    [comment] = await stored_comments(site)
    assert comment.author.website == "https://jean.example"
    assert (
        '<a class="comment-author" href="https://jean.example" rel="nofollow ugc">'
        in (await get(site, "/posts/post")).text
    )


async def test_form__body_over_64_kib_is_413_and_nothing_stored(site: LiveSite) -> None:
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        page = await get(site, "/posts/post", session)
        data = {**VALID, "csrf_token": csrf_token(page.text), "message": "x" * (65 * 1024)}
        answer = await post_form(site, "/posts/post/comments", data, session)
    assert answer.status == 413
    assert "Too much text" in answer.text
    assert await stored_comments(site) == []


async def test_form__unknown_post_is_404(site: LiveSite) -> None:
    async with new_session() as session:
        answer = await post_form(site, "/posts/nope/comments", dict(VALID), session)
    assert answer.status == 404


async def test_moderation__first_time_holds_then_trusts_the_email(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=LENIENT)
    await publish(site, "Post", slug="post")
    async with new_session() as writer:
        # Given a first comment: held, the writer lands on its anchor with the notice and a preview
        first = await submit_comment(site, "post", writer, **{**VALID, "message": "First words"})
        held = (await stored_comments(site))[0]
        assert held.status == CommentStatus.PENDING
        assert first.status == 303
        assert first.headers["Location"] == f"{site.url}/posts/post?held={held.id}#comment-{held.id}"
        landing = await get(site, f"/posts/post?held={held.id}", writer)
        assert "Your comment is awaiting moderation." in landing.text
        assert f'id="comment-{held.id}"' in landing.text and "First words" in landing.text
        # Another visitor sees nothing of it, even with the same link
        for path in ("/posts/post", f"/posts/post?held={held.id}"):
            other = await get(site, path)
            assert "First words" not in other.text and "awaiting moderation" not in other.text
        # When the author approves it, the next comment by that email appears at once
        await CommentService(site.ctx).approve(held.id)
        second = await submit_comment(site, "post", writer, **{**VALID, "message": "Second words"})
    newest = (await stored_comments(site))[0]
    assert newest.status == CommentStatus.APPROVED
    assert second.headers["Location"] == f"{site.url}/posts/post#comment-{newest.id}"
    page = await get(site, "/posts/post")
    assert "First words" in page.text and "Second words" in page.text and "2 comments" in page.text


async def test_moderation__hold_all_holds_even_trusted_emails(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "hold_all", "rate_limit_per_minute": 100}})
    post = await publish(site, "Post", slug="post")
    await add_comment(site, post, "Approved before", email=VALID["email"])
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **{**VALID, "message": "Held again"})
    assert "?held=" in answer.headers["Location"]
    assert "Held again" not in (await get(site, "/posts/post")).text


async def test_moderation__open_shows_comments_at_once(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **VALID)
    comment = (await stored_comments(site))[0]
    assert answer.headers["Location"] == f"{site.url}/posts/post#comment-{comment.id}"
    assert f'id="comment-{comment.id}"' in (await get(site, "/posts/post")).text


async def test_held_preview__forged_cookie_shows_nothing(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=LENIENT)
    await publish(site, "Post", slug="post")
    async with new_session() as writer:
        await submit_comment(site, "post", writer, **{**VALID, "message": "Private words"})
    held = (await stored_comments(site))[0]
    forged = f"{held.id}.AAAAAAAAAAAAAAAAAAAA"
    page = await get(site, f"/posts/post?held={held.id}", headers={"Cookie": f"fedblog_own={forged}"})
    assert "Private words" not in page.text


async def test_thread__replyto_sets_the_form_and_nests_the_reply(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    post = await publish(site, "Post", slug="post")
    parent = await add_comment(site, post, "Parent words", name="Parent Person")
    async with new_session() as session:
        form_page = await get(site, f"/posts/post?replyto={parent.id}", session)
        assert "Replying to" in form_page.text and "Parent Person" in form_page.text
        assert f'name="parent_id" value="{parent.id}"' in form_page.text
        assert f'href="{site.url}/posts/post#respond">cancel reply</a>' in form_page.text
        answer = await submit_comment(
            site, "post", session, query=f"?replyto={parent.id}", **{**VALID, "parent_id": str(parent.id)}
        )
        assert answer.status == 303
        reply = (await stored_comments(site))[0]
        deeper = await submit_comment(
            site, "post", session, **{**VALID, "message": "Deeper", "parent_id": str(reply.id)}
        )
        assert deeper.status == 303
    page = await get(site, "/posts/post")
    nested = re.search(
        rf'id="comment-{parent.id}".*?<ol class="comment-replies">.*?id="comment-{reply.id}"'
        r'.*?<ol class="comment-replies">.*?Deeper',
        page.text,
        flags=re.DOTALL,
    )
    assert nested, "replies are nested under their parents"
    assert f'href="{site.url}/posts/post?replyto={parent.id}#respond"' in page.text


async def test_thread__reply_to_unknown_comment_is_refused(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Post", slug="post")
    async with new_session() as session:
        answer = await submit_comment(site, "post", session, **{**VALID, "parent_id": "9999"})
    assert answer.status == 400 and "The comment you reply to does not exist." in answer.text
    assert await stored_comments(site) == []


async def test_thread__remote_author_and_author_badge_are_shown(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=OPEN)
    post = await publish(site, "Post", slug="post")
    comment = await add_comment(site, post, "Question?")
    await CommentService(site.ctx).reply_as_author(comment.id, "An *answer*.")
    async with site.ctx.db.transaction() as conn:
        author_id = await site.ctx.comments.upsert_remote_author(
            conn,
            "https://social.example/users/zoe",
            "Zoé",
            "zoe@social.example",
            "https://social.example/avatars/zoe.png",
            "https://social.example/@zoe",
        )
        remote_id = await site.ctx.comments.insert_comment(
            conn,
            NewComment(
                post_id=post.id,
                parent_id=comment.id,
                author_id=author_id,
                origin=CommentOrigin.FEDIVERSE,
                status=CommentStatus.APPROVED,
                content_html="<p>From the fediverse</p>",
                summary="Spoilers",
                language="fr",
            ),
        )
        await site.ctx.comments.update_content(
            conn, remote_id, "<p>From the fediverse, edited</p>", "Spoilers", True, (), "2025-06-01T10:00:00Z"
        )
        await site.ctx.comments.insert_comment(
            conn,
            NewComment(
                post_id=post.id,
                parent_id=None,
                author_id=author_id,
                origin=CommentOrigin.FEDIVERSE,
                status=CommentStatus.APPROVED,
                content_html="<p>With pictures</p>",
                attachments=(
                    Attachment("https://social.example/media/cat.jpg", "image/jpeg", "A sleeping cat"),
                    Attachment("https://social.example/media/talk.pdf", "application/pdf", "Slides"),
                    Attachment("javascript:alert(1)", "image/png", "evil"),
                ),
            ),
        )
    page = await get(site, "/posts/post")
    assert '<span class="badge">Author</span>' in page.text
    assert "<em>answer</em>" in page.text
    assert '<a class="comment-author" href="https://social.example/@zoe" rel="nofollow ugc">Zoé</a>' in page.text
    assert '<span class="handle">@zoe@social.example</span>' in page.text
    # Her face is served by the blog (fetched once in the background), never hotlinked from her server
    assert f'src="{site.url}/faces/remote/{author_id}" alt="Avatar of Zoé"' in page.text
    assert "avatars/zoe.png" not in page.text
    assert re.search(r'<details class="content-warning">\s*<summary>Spoilers</summary>', page.text)
    assert 'lang="fr"' in page.text and "4 comments" in page.text
    assert "From the fediverse, edited" in page.text and '<span class="edited"' in page.text
    assert '<img src="https://social.example/media/cat.jpg" alt="A sleeping cat" loading="lazy">' in page.text
    assert '<a href="https://social.example/media/talk.pdf" rel="nofollow ugc noopener">Slides</a>' in page.text
    assert "javascript:alert(1)" not in page.text


async def test_form__chunked_body_over_64_kib_is_413_too(site: LiveSite) -> None:
    # Given a body sent without Content-Length (chunked): the limit holds while reading
    await publish(site, "Post", slug="post")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"name=A&email=a%40example.org&message="
        for _ in range(70):
            yield b"x" * 1024

    async with new_session() as session:
        answer = await post_form(
            site,
            "/posts/post/comments",
            chunks(),
            session,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status == 413
    assert await stored_comments(site) == []


async def test_held_preview__a_held_reply_shows_under_its_parent(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=LENIENT)
    post = await publish(site, "Post", slug="post")
    parent = await add_comment(site, post, "Parent words", name="Parent Person")
    later = await add_comment(site, post, "A later comment", name="Someone Else")
    async with new_session() as writer:
        answer = await submit_comment(
            site, "post", writer, **{**VALID, "message": "My held reply", "parent_id": str(parent.id)}
        )
        held = next(comment for comment in await stored_comments(site) if comment.status == CommentStatus.PENDING)
        landing = await get(site, answer.headers["Location"].removeprefix(site.url).split("#")[0], writer)
    under_parent = re.search(
        rf'id="comment-{parent.id}".*?<ol class="comment-replies">\s*<li class="comment-item">'
        rf'.*?awaiting moderation.*?id="comment-{held.id}".*?</ol>.*?id="comment-{later.id}"',
        landing.text,
        flags=re.DOTALL,
    )
    assert under_parent, "the held reply is previewed inside its parent's replies, before the next comment"
    assert landing.text.count("awaiting moderation") == 1
