"""E-mail notifications: digests sent by the real app's notifier to a real SMTP server (aiosmtpd) on 127.0.0.1.

Each period is one `run_once()`; a test that needs time to pass gives the notifier its own clock.
"""

from __future__ import annotations

import logging

import aiohttp
import pytest

from fedblog.assembly import open_context
from fedblog.models import CommentOrigin, CommentStatus
from fedblog.services.comments import CommentService
from fedblog.services.notifications import Notifier, Outcome
from fedblog.store.comments import NewComment
from fedblog.store.followers import FollowerStore
from fedblog.store.notifications import NotificationStore
from fedblog.web.notifier import NOTIFIER_KEY
from tests.conftest import ADMIN_PASSWORD, LiveSite, SiteFactory, free_port
from tests.fakes.mail import AUTHOR_EMAIL, Clock, SmtpInbox, body, notifications
from tests.helpers import FEDBLOG, clean_env, run
from tests.integration.blog_support import Page, add_comment, get, new_session, post_form, publish, submit_comment

PASSWORD = "s3cret-Pa55word-never-logged"


async def dashboard(site: LiveSite, session: aiohttp.ClientSession) -> Page:
    """The admin dashboard, logging in first when the session has no admin cookie yet."""
    page = await get(site, "/admin", session)
    if page.status != 200:
        assert (await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, session)).status == 303
        page = await get(site, "/admin", session)
    assert page.status == 200
    return page


async def held_comment(site: LiveSite, slug: str, message: str, email_address: str) -> int:
    post = await site.ctx.posts.get_post_by_slug(slug)
    assert post is not None
    comment = await add_comment(site, post, message, name="Visitor", email=email_address, approve=False)
    assert comment.status == CommentStatus.PENDING
    return comment.id


async def test_notifier__held_web_comment_makes_one_digest_with_excerpt_and_admin_link(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    # Given a site whose author wants e-mails, and a visitor's first comment sent through the real form (held)
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    async with new_session() as session:
        page = await submit_comment(
            site, "hello", session, name="Dominique", email="dom@example.org", message="What a <b>lovely</b> post."
        )
    assert page.status == 303
    [comment] = await site.ctx.comments.list_by_status(CommentStatus.PENDING)
    # When a period passes
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    # Then the author got one plain-text digest: the excerpt and the link to it in the moderation queue
    [message] = smtp.messages
    assert smtp.recipients == [[AUTHOR_EMAIL]]
    assert message["Subject"] == "[Test blog] 1 comment awaiting moderation"
    assert message["To"] == AUTHOR_EMAIL and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    text = body(message)
    assert "Dominique on “Hello” (comment form)" in text
    assert "What a <b>lovely</b> post." in text  # what the visitor typed, as text
    assert f"{site.url}/admin/comments?status=pending#comment-{comment.id}" in text
    assert f"{site.url}/admin/comments?status=pending\n" in text
    assert "dom@example.org" not in message.as_string()
    # And the next period has nothing to say
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.NOTHING_NEW
    assert len(smtp.messages) == 1


async def test_notifier__five_comments_in_one_period_make_one_mail_listing_five(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    ids = [await held_comment(site, "hello", f"Comment number {n}", f"visitor{n}@example.org") for n in range(5)]
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    assert message["Subject"] == "[Test blog] 5 comments awaiting moderation"
    text = body(message)
    for n, comment_id in enumerate(ids):
        assert f"Comment number {n}" in text
        assert f"#comment-{comment_id}" in text
    assert "more" not in text


async def test_notifier__a_flood_is_listed_up_to_ten_and_counted(site_factory: SiteFactory, smtp: SmtpInbox) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    for n in range(14):
        await held_comment(site, "hello", f"Flood {n:02d}", f"flood{n}@example.org")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    text = body(message)
    assert message["Subject"] == "[Test blog] 14 comments awaiting moderation"
    assert "Flood 09" in text and "Flood 10" not in text
    assert "and 4 more" in text


async def test_notifier__remote_html_becomes_plain_text_and_published_comments_link_to_the_post(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    post = await publish(site, "Hello", slug="hello")
    ctx = site.ctx
    async with ctx.db.transaction() as conn:
        author = await ctx.comments.upsert_remote_author(
            conn, "https://remote.example/users/ana", "Ana\u202e evil", "@ana@remote.example", None, None
        )
        comment_id = await ctx.comments.insert_comment(
            conn,
            NewComment(
                post_id=post.id,
                parent_id=None,
                author_id=author,
                origin=CommentOrigin.FEDIVERSE,
                status=CommentStatus.APPROVED,
                content_html='<p>Hi <a href="https://evil.example/x">there</a></p><p><img src="https://evil.example/p.png">'
                "&amp; bye</p>",
                remote_id="https://remote.example/notes/1",
            ),
        )
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    assert message["Subject"] == "[Test blog] 1 new comment"
    text = body(message)
    assert "Ana evil on “Hello” (fediverse)" in text  # the bidi override is gone
    assert "Hi there & bye" in text
    assert "evil.example" not in text and "<" not in text
    assert f"{site.url}/posts/hello#comment-{comment_id}" in text


async def test_notifier__nothing_new_sends_nothing(site_factory: SiteFactory, smtp: SmtpInbox) -> None:
    # Given comments and followers from before notifications were on
    site = await site_factory(overrides=notifications(smtp.port))
    post = await publish(site, "Hello", slug="hello")
    await add_comment(site, post, "Old comment")  # the author approved it: the digest would list it
    await site.ctx.db.connection.execute("DELETE FROM notification_marks")  # as if the feature was just turned on
    notifier = Notifier(site.ctx)
    await notifier.start()
    # When periods pass with nothing new
    assert await notifier.run_once() == Outcome.NOTHING_NEW
    assert await notifier.run_once() == Outcome.NOTHING_NEW
    # Then no e-mail, and the dashboard says none went out yet
    assert smtp.messages == []
    assert (await NotificationStore(site.ctx.db).status()).last_sent_at is None


async def test_notifier__smtp_down_keeps_the_mark_and_the_period_after_it_is_back_sends(
    site_factory: SiteFactory,
) -> None:
    # Given the SMTP server is down when a comment is held
    port = free_port()
    site = await site_factory(overrides=notifications(port))
    await publish(site, "Hello", slug="hello")
    await held_comment(site, "hello", "Sent while the mail server is down", "late@example.org")
    clock = Clock()
    notifier = Notifier(site.ctx, clock=clock)
    store = NotificationStore(site.ctx.db)
    marks_before = await store.marks()
    # When the period comes: nothing is sent, the mark stays, the failure is recorded
    assert await notifier.run_once() == Outcome.FAILED
    assert await store.marks() == marks_before
    assert "Connect" in ((await store.status()).last_error or "")
    # And the next attempt waits (backoff) even when asked again at once
    clock.advance(10)
    assert await notifier.run_once() == Outcome.WAITING
    # When the server is back and the backoff is over
    inbox = SmtpInbox(port)
    await inbox.start()
    try:
        clock.advance(3600)
        assert await notifier.run_once() == Outcome.SENT
    finally:
        await inbox.stop()
    # Then the comment held during the outage is in the digest, and the mark moved
    [message] = inbox.messages
    assert "Sent while the mail server is down" in body(message)
    assert await store.marks() != marks_before
    status = await store.status()
    assert status.last_error is None and status.last_sent_at == clock.now


async def test_notifier__a_restart_does_not_resend_and_sends_what_came_meanwhile_once(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    await held_comment(site, "hello", "Before the restart", "one@example.org")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    await held_comment(site, "hello", "While restarting", "two@example.org")
    # A new process: its own connection, a notifier with nothing in memory
    async with open_context(site.settings) as ctx:
        notifier = Notifier(ctx)
        await notifier.start()
        assert await notifier.run_once() == Outcome.SENT
        assert await notifier.run_once() == Outcome.NOTHING_NEW
    async with open_context(site.settings) as ctx:
        notifier = Notifier(ctx)
        await notifier.start()
        assert await notifier.run_once() == Outcome.NOTHING_NEW
    first, second = smtp.messages
    assert "Before the restart" in body(first) and "While restarting" not in body(first)
    assert "While restarting" in body(second) and "Before the restart" not in body(second)


@pytest.mark.sqlite_only  # PostgreSQL never hands a deleted row's id to the next one
async def test_notifier__a_comment_taking_the_id_of_a_deleted_one_is_still_announced(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    # Given a held spam comment announced, then deleted by the author (SQLite hands its id to the next comment)
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    spam_id = await held_comment(site, "hello", "Buy cheap things", "spam@example.org")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    await CommentService(site.ctx).delete(spam_id)
    # When a real comment comes in under the same id
    real_id = await held_comment(site, "hello", "A real question", "real@example.org")
    assert real_id == spam_id
    # Then it is announced all the same
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    assert "A real question" in body(smtp.messages[1])


async def test_notifier__new_follower_and_follow_request_are_announced(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    followers = FollowerStore(site.ctx.db)
    async with site.ctx.db.transaction() as conn:
        for name, status in (("alice", "accepted"), ("bob", "pending")):
            await followers.upsert(
                conn,
                actor_id=f"https://remote.example/users/{name}",
                inbox=f"https://remote.example/users/{name}/inbox",
                shared_inbox=None,
                handle=f"@{name}@remote.example",
                name=name.title(),
                follow_activity_id=f"https://remote.example/follows/{name}",
                follow_json="{}",
                status=status,
            )
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    assert message["Subject"] == "[Test blog] 1 new follower, 1 follow request"
    text = body(message)
    assert "- Alice (@alice@remote.example)" in text
    assert "- Bob (@bob@remote.example)" in text
    assert f"{site.url}/admin/followers" in text


async def test_notifier__events_turned_off_are_skipped_without_a_mail(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port, on=["held"]))
    post = await publish(site, "Hello", slug="hello")
    await add_comment(site, post, "Approved by the author at once")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.NOTHING_NEW
    await held_comment(site, "hello", "Held one", "held@example.org")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    assert "Held one" in body(message) and "Approved by the author" not in body(message)


async def test_notifier__subject_and_body_in_french(site_factory: SiteFactory, smtp: SmtpInbox) -> None:
    site = await site_factory(language="fr", overrides=notifications(smtp.port))
    await publish(site, "Bonjour", slug="bonjour")
    for n in range(2):
        await held_comment(site, "bonjour", f"Commentaire {n}", f"c{n}@example.org")
    assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
    [message] = smtp.messages
    assert message["Subject"] == "[Test blog] 2 commentaires en attente de modération"
    assert "Visitor sur « Bonjour » (formulaire de commentaire)" in body(message)
    assert "File de modération" in body(message)


async def test_notifier__smtp_password_never_logged_nor_shown(
    site_factory: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server that refuses the login
    inbox = SmtpInbox(free_port(), reject_logins=True)
    await inbox.start()
    try:
        site = await site_factory(overrides=notifications(inbox.port, smtp_username="author", smtp_password=PASSWORD))
        await publish(site, "Hello", slug="hello")
        await held_comment(site, "hello", "Hello", "x@example.org")
        with caplog.at_level(logging.DEBUG):
            assert await site.app[NOTIFIER_KEY].run_once() == Outcome.FAILED
    finally:
        await inbox.stop()
    # Then the failure is logged with the server's answer, never the password
    assert "535" in caplog.text
    assert PASSWORD not in caplog.text
    # And the dashboard says the last attempt failed, without the password
    async with new_session() as session:
        page = await dashboard(site, session)
    assert "E-mail notifications are on, to author@example.org." in page.text
    assert "The last attempt failed" in page.text and "535" in page.text
    assert PASSWORD not in page.text


async def test_dashboard__says_when_the_last_digest_went_out(site_factory: SiteFactory, smtp: SmtpInbox) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    await publish(site, "Hello", slug="hello")
    async with new_session() as session:
        before = await dashboard(site, session)
        await held_comment(site, "hello", "Hello", "x@example.org")
        assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
        after = await dashboard(site, session)
    assert "None has gone out yet." in before.text
    assert "The last one went out on" in after.text


async def test_dashboard__notifications_off_by_default(site: LiveSite) -> None:
    async with new_session() as session:
        page = await dashboard(site, session)
    assert "E-mail notifications are off" in page.text
    assert site.app[NOTIFIER_KEY].enabled is False


async def test_cli_notifications_test__sends_through_the_loopback_server(
    site_factory: SiteFactory, smtp: SmtpInbox
) -> None:
    site = await site_factory(overrides=notifications(smtp.port))
    config = str(site.settings.root / "fedblog.toml")
    result = await run(FEDBLOG, "--config", config, "notifications", "test")
    assert result.code == 0, result.err
    assert f"sent a test e-mail to {AUTHOR_EMAIL} through 127.0.0.1:{smtp.port}" in result.out
    [message] = smtp.messages
    assert message["Subject"] == "[Test blog] Test notification"


async def test_cli_notifications_test__reports_the_smtp_error_without_the_password(site_factory: SiteFactory) -> None:
    port = free_port()  # nothing listens there
    site = await site_factory(overrides=notifications(port, smtp_username="author"))
    config = str(site.settings.root / "fedblog.toml")
    env = clean_env(FEDBLOG_NOTIFICATIONS_SMTP_PASSWORD=PASSWORD)
    result = await run(FEDBLOG, "--config", config, "notifications", "test", env=env)
    assert result.code == 1
    assert f"fedblog: 127.0.0.1:{port} did not take the message: SMTPConnectError" in result.err
    assert PASSWORD not in result.err + result.out


async def test_cli_notifications_test__says_when_notifications_are_off(site: LiveSite) -> None:
    result = await run(FEDBLOG, "--config", str(site.settings.root / "fedblog.toml"), "notifications", "test")
    assert result.code == 1
    assert "notifications are off: set notifications.email" in result.err
