"""E-mails to web commenters, with the real app, a real SMTP server on 127.0.0.1 (aiosmtpd) and a loopback Mastodon:
double opt-in, a fediverse reply to a web comment mailed to its writer with a working one-click unsubscribe, nothing
before confirmation nor for held or blocked replies, digests for a post's subscribers, and a restart mid-sending.

Each round is one `run_once()` of the app's subscriber notifier, with the test's own clock when time must pass.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fedblog.app import create_app
from fedblog.models import Comment, CommentStatus, Post
from fedblog.services.blocks import add_block
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.subscriber_notifier import SubscriberNotifier
from fedblog.web.keys import CONTEXT_KEY
from fedblog.web.subscriber_notifier import SUBSCRIBER_NOTIFIER_KEY
from tests.conftest import LiveSite, SiteFactory, free_port
from tests.fakes.mail import AUTHOR_EMAIL, Clock, SmtpInbox, body, notifications
from tests.fakes.pages import OtherSite, Served
from tests.fakes.remote import RemoteInstance
from tests.helpers import eventually, publish, thread_parents
from tests.integration.blog_support import get, new_session, post_form, submit_comment


class RecordingInbox(SmtpInbox):
    """Keeps the bytes as they came over the wire too; once it holds `refuse_after` messages, it answers 451."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.raw: list[bytes] = []
        self.refuse_after: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_after is not None and len(self.raw) >= self.refuse_after:
            return "451 Try again later"
        self.raw.append(envelope.content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def smtp() -> AsyncIterator[RecordingInbox]:
    async with RecordingInbox(free_port()) as inbox:
        yield inbox


VERA = "vera@example.org"
BLOG_ADDRESS = "blog@example.org"
URL_RE = re.compile(r"https?://\S+")


def mail_overrides(port: int, moderation: str = "open") -> dict[str, dict[str, Any]]:
    values = notifications(port, from_address=BLOG_ADDRESS)
    values["comments"] |= {"moderation": moderation}
    return values


def to_commenters(inbox: SmtpInbox) -> list[EmailMessage]:
    return [message for message in inbox.messages if message["To"] != AUTHOR_EMAIL]


def link(message: EmailMessage, path: str) -> str:
    for url in URL_RE.findall(body(message)):
        if f"/subscriptions{path}?token=" in url:
            return url
    raise AssertionError(f"no /subscriptions{path} link in {body(message)!r}")


async def run(site: LiveSite, clock: Clock | None = None) -> int:
    notifier = site.app[SUBSCRIBER_NOTIFIER_KEY]
    if clock is not None:
        notifier.clock = clock
    return await notifier.run_once()


async def press(url: str, session: aiohttp.ClientSession) -> str:
    """Open an e-mail's link like a person: the page, then its button."""
    async with session.get(url) as shown:
        assert shown.status == 200, await shown.text()
    async with session.post(url) as pressed:
        assert pressed.status == 200
        return await pressed.text()


async def subscribed_visitor(
    site: LiveSite, inbox: SmtpInbox, post: Post, email: str, name: str = "Vera", **boxes: str
) -> int:
    """A visitor comments with the boxes ticked and confirms from the e-mail; the id of their comment."""
    async with new_session() as session:
        sent = await submit_comment(
            site, post.slug, session, name=name, email=email, message=f"Hi from {name}", **boxes
        )
        assert sent.status == 303
        before = len(inbox.messages)
        await run(site)
        [confirmation] = inbox.messages[before:]
        assert confirmation["To"] == email
        await press(link(confirmation, "/confirm"), session)
    comments = await site.ctx.comments.list_by_status()
    return next(c.id for c in comments if c.author.email == email)


async def fediverse_reply(site: LiveSite, remote: RemoteInstance, who: str, comment_id: int, text: str) -> None:
    note = remote.note(who, site.ctx.urls.comment_object(comment_id), text)
    assert await remote.send(who, remote.create(who, note)) == 202


async def test_reply_notification__double_opt_in_then_a_fediverse_reply_mails_the_writer_with_one_click_unsubscribe(
    site_factory: SiteFactory, smtp: RecordingInbox, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    remote.site = site
    post = await publish(site)
    remote.profiles["bob"] = {"name": "Bob\u202e Builder"}
    # Given a visitor who ticks "Notify me of replies" (the form offers both boxes, unticked)
    async with new_session() as session:
        form = (await get(site, f"/posts/{post.slug}", session)).text
        assert re.search(r'name="notify_replies" type="checkbox" value="on">', form)
        assert re.search(r'name="notify_post" type="checkbox" value="on">', form)
        await submit_comment(site, post.slug, session, name="Vera", email=VERA, message="Hello", notify_replies="on")
    [mine] = await site.ctx.comments.list_by_status()
    # When a round passes: one confirmation, and nothing else while it is not confirmed
    assert await run(site) == 1
    [confirmation] = to_commenters(smtp)
    assert confirmation["Subject"] == "[Test blog] Confirm your e-mail address"
    assert smtp.recipients[-1] == [VERA]
    await fediverse_reply(site, remote, "bob", mine.id, "<p>Too early</p>")
    assert await run(site) == 0
    # A scanner that only opens the link confirms nothing; the button does
    confirm_url = link(confirmation, "/confirm")
    async with new_session() as session:
        async with session.get(confirm_url) as shown:
            assert "Confirm my address" in await shown.text()
        assert (await site.ctx.db.fetch_value("SELECT confirmed_at FROM subscribers")) is None
        assert "your address is confirmed" in await press(confirm_url, session)
    # Then a fediverse reply to her comment brings one e-mail, in plain text, with the reply and a link to it
    await fediverse_reply(site, remote, "bob", mine.id, '<p>Welcome, <a href="https://evil.example/">Vera</a>!</p>')
    assert await run(site) == 1
    [_, mail] = to_commenters(smtp)
    assert smtp.recipients[-1] == [VERA]
    assert (
        mail["Subject"]
        == f"[Test blog] Bob Builder ({remote.address('bob')}) replied to your comment on “{post.title}”"
    )
    text = body(mail)
    assert "Welcome, Vera!" in text and "evil.example" not in text and "Too early" not in text
    reply = next(c for c in await site.ctx.comments.list_by_status() if "Welcome" in c.content_html)
    assert site.ctx.urls.comment_anchor(post.slug, reply.id) in text
    stop_url = link(mail, "/stop")
    assert mail["List-Unsubscribe"] == f"<{stop_url}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link(mail, "/stop-all") and link(mail, "")
    assert mail["From"] == BLOG_ADDRESS and AUTHOR_EMAIL not in mail.as_string()
    assert mail.as_string().count(VERA) == 1  # only in To
    assert f"List-Unsubscribe: <{stop_url}>\r\n".encode() in smtp.raw[-1]  # neither folded nor encoded
    # And the one-click POST a mail client sends stops it: the next reply brings nothing
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            stop_url, data="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ) as answer,
    ):
        assert answer.status == 200
    await fediverse_reply(site, remote, "bob", mine.id, "<p>Still there?</p>")
    assert await run(site) == 0
    assert len(to_commenters(smtp)) == 2


async def test_reply_notification__held_replies_wait_for_approval_and_blocked_authors_send_nothing(
    site_factory: SiteFactory, smtp: RecordingInbox, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port, moderation="hold_all"))
    remote.site = site
    post = await publish(site)
    service = CommentService(site.ctx)
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    await service.approve(mine)
    sent_before = len(smtp.messages)
    # A web reply held for moderation sends nothing until the author approves it; a name cannot add headers
    form = CommentForm(
        name="Eve\r\nBcc: victim@example.org", email="eve@example.org", message="Held words", parent_id=str(mine)
    )
    held = (await service.submit_web_comment(post, form, ip=None)).comment
    assert held is not None and held.status == CommentStatus.PENDING
    assert await run(site) == 0
    await service.approve(held.id)
    assert await run(site) == 1
    [mail] = smtp.messages[sent_before:]
    assert smtp.recipients[-1] == [VERA]
    assert mail["Subject"] == f"[Test blog] Eve Bcc: victim@example.org replied to your comment on “{post.title}”"
    assert mail["Bcc"] is None and "Held words" in body(mail)
    # A held fediverse reply whose author is blocked before it is approved sends nothing, ever
    await fediverse_reply(site, remote, "mallory", mine, "<p>From a troll</p>")
    [troll] = await site.ctx.comments.list_by_status(CommentStatus.PENDING)
    assert await run(site) == 0
    await add_block(site.ctx, remote.actor_id("mallory"))
    await service.approve(troll.id)
    assert await run(site) == 0
    assert len(smtp.messages) == sent_before + 1


async def test_digest__post_subscribers_get_one_mail_per_period_listing_the_new_comments(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    await subscribed_visitor(site, smtp, post, VERA, notify_post="on")
    service = CommentService(site.ctx)
    clock = Clock()

    async def comment(name: str, text: str, email: str) -> None:
        result = await service.submit_web_comment(post, CommentForm(name=name, email=email, message=text), ip=None)
        assert result.comment is not None

    # Three comments by others (and one of hers, which she is not told of) in one period: one digest of three
    for number in range(3):
        await comment(f"Reader {number}", f"Comment number {number}", f"reader{number}@example.org")
    await comment("Vera", "My own second comment", VERA)
    sent_before = len(smtp.messages)
    assert await run(site, clock) == 1
    [digest] = smtp.messages[sent_before:]
    assert digest["Subject"] == f"[Test blog] 3 new comments on “{post.title}”"
    text = body(digest)
    assert all(f"Comment number {n}" in text for n in range(3)) and "My own second comment" not in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Two more within the period wait for it to end, then come as one mail
    await comment("Reader 3", "Comment number 3", "reader3@example.org")
    await comment("Reader 4", "Comment number 4", "reader4@example.org")
    clock.advance(30 * 60)
    assert await run(site, clock) == 0
    clock.advance(31 * 60)
    assert await run(site, clock) == 1
    assert smtp.messages[-1]["Subject"] == f"[Test blog] 2 new comments on “{post.title}”"
    assert "Comment number 0" not in body(smtp.messages[-1])
    assert await run(site, clock) == 0


async def test_restart_in_the_middle_of_sending__nothing_lost_nothing_twice(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    readers = [f"reader{n}@example.org" for n in range(3)]
    comment_ids = [
        await subscribed_visitor(site, smtp, post, email, name=f"R{n}", notify_replies="on")
        for n, email in enumerate(readers)
    ]
    service = CommentService(site.ctx)
    for comment_id in comment_ids:
        await service.reply_as_author(comment_id, f"Thanks for comment {comment_id}")
    # Given the mail server takes the first reply mail, then refuses the others
    sent_before = len(smtp.messages)
    smtp.refuse_after = len(smtp.raw) + 1
    assert await run(site) == 1
    assert [m["To"] for m in smtp.messages[sent_before:]] == [readers[0]]
    # When fedblog stops and starts again on the same files, with the server back
    smtp.refuse_after = None
    settings = site.settings
    await site.runner.cleanup()
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        notifier = SubscriberNotifier(app[CONTEXT_KEY], clock=Clock())
        await notifier.start()
        notifier.clock.advance(3600)  # past the backoff of the failed attempt
        assert await notifier.run_once() == 2
        assert await notifier.run_once() == 0
    finally:
        await runner.cleanup()
    # Then each reader got exactly one reply mail, about their own comment
    replies = [m for m in smtp.messages[sent_before:] if "replied to your comment" in m["Subject"]]
    assert sorted(m["To"] for m in replies) == readers
    for message in replies:
        comment_id = comment_ids[readers.index(message["To"])]
        assert f"Thanks for comment {comment_id}" in body(message)


async def test_subscriptions_page__lists_without_the_address_stops_one_and_tokens_have_one_purpose(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site, title="A post to follow")
    await subscribed_visitor(site, smtp, post, VERA, notify_replies="on", notify_post="on")
    confirmation = smtp.messages[-1]
    manage_url, stop_all_url = link(confirmation, ""), link(confirmation, "/stop-all")
    async with new_session() as session:
        page = await get(site, manage_url.removeprefix(site.url), session)
        assert page.status == 200 and page.headers["Cache-Control"] == "private, no-store"
        assert "Replies to your comment on" in page.text and "New comments on" in page.text
        assert VERA not in page.text and "A post to follow" in page.text
        # A token made for another purpose, or tampered with, opens nothing
        token = manage_url.split("token=")[1]
        for wrong in (
            f"/subscriptions/confirm?token={token}",
            f"/subscriptions/stop?token={token}",
            "/subscriptions?token=1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "/subscriptions?token=2",
        ):
            assert (await get(site, wrong, session)).status == 404, wrong
        # Stopping one from the page leaves the other
        stop_path = re.findall(r'action="([^"]*/subscriptions/stop\?token=[^"]+)"', page.text)[0]
        stop_path = stop_path.replace("&amp;", "&").removeprefix(site.url)
        answer = await post_form(site, stop_path, {}, session)
        assert answer.status == 200 and "no more e-mails about this thread" in answer.text
        page = await get(site, manage_url.removeprefix(site.url), session)
        assert page.text.count('<form method="post" action="' + site.url + "/subscriptions/stop?") == 1
        # And "stop all" forgets the address
        await press(stop_all_url, session)
    assert await site.ctx.db.fetch_value("SELECT COUNT(*) FROM subscribers") == 0
    assert (await get(site, manage_url.removeprefix(site.url))).status == 404


async def test_rate_limit__an_address_gets_at_most_ten_mails_an_hour_and_the_rest_later(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    service = CommentService(site.ctx)
    for number in range(12):
        await service.reply_as_author(mine, f"Answer number {number}")
    clock = Clock()
    sent_before = len(smtp.messages)
    assert await run(site, clock) == 9  # the confirmation counted as one of the ten
    clock.advance(30 * 60)
    assert await run(site, clock) == 0
    clock.advance(31 * 60)
    assert await run(site, clock) == 3
    texts = [body(message) for message in smtp.messages[sent_before:]]
    assert all(any(f"Answer number {n}\n" in text for text in texts) for n in range(12))


async def test_mail_failure__retried_after_a_backoff_that_doubles_then_sent_once(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    await CommentService(site.ctx).reply_as_author(mine, "An answer that waits for the server")
    clock, sent_before = Clock(), len(smtp.messages)
    # Given a mail server that refuses the reply mail
    smtp.refuse_after = len(smtp.raw)
    assert await run(site, clock) == 0
    # When it takes mail again half a minute later, the mail still waits out its minute
    smtp.refuse_after = None
    clock.advance(30)
    assert await run(site, clock) == 0
    # and a second refusal a minute later doubles the wait
    smtp.refuse_after = len(smtp.raw)
    clock.advance(31)
    assert await run(site, clock) == 0
    smtp.refuse_after = None
    clock.advance(100)
    assert await run(site, clock) == 0
    states = await site.ctx.db.fetch_one(
        "SELECT status, attempts, last_error FROM subscriber_mails WHERE kind = 'reply'"
    )
    assert states is not None and (states[0], states[1]) == ("pending", 2) and "451" in states[2]
    # Then once the backoff is over it goes out, once
    clock.advance(21)
    assert await run(site, clock) == 1
    assert await run(site, clock) == 0
    [mail] = smtp.messages[sent_before:]
    assert mail["To"] == VERA and "An answer that waits for the server" in body(mail)


async def test_reply_notification__a_long_reply_is_shortened_to_its_opening(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    words = " ".join(f"word{n}" for n in range(400))  # about 3,000 characters
    await CommentService(site.ctx).reply_as_author(mine, words)
    assert await run(site) == 1
    text = body(smtp.messages[-1])
    [line] = [line for line in text.splitlines() if line.startswith("word0 ")]
    assert len(line) <= 601 and line.endswith("…") and "word399" not in text


async def test_reply_notification__in_the_sites_language(site_factory: SiteFactory, smtp: RecordingInbox) -> None:
    site = await site_factory(language="fr", overrides=mail_overrides(smtp.port))
    post = await publish(site, title="Bonjour")
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    assert smtp.messages[-1]["Subject"] == "[Test blog] Confirmez votre adresse e-mail"
    await CommentService(site.ctx).reply_as_author(mine, "Merci !")
    assert await run(site) == 1
    mail = smtp.messages[-1]
    assert mail["Subject"] == "[Test blog] author a répondu à votre commentaire sur « Bonjour »"
    assert "Ne plus recevoir d’e-mails pour cette discussion : http" in body(mail)


async def test_reply_notification__a_webmention_answering_a_comment_is_threaded_under_it_and_mails_its_writer(
    site_factory: SiteFactory, smtp: RecordingInbox
) -> None:
    # Given a visitor subscribed to replies to her comment
    site = await site_factory(overrides=mail_overrides(smtp.port))
    post = await publish(site)
    mine = await subscribed_visitor(site, smtp, post, VERA, notify_replies="on")
    other = await OtherSite().start()
    try:
        # When another site's page answers her comment (its in-reply-to is the comment's link) and says so
        target = site.ctx.urls.comment_anchor(post.slug, mine)
        other.pages["/answer"] = Served(
            body=f"""<!doctype html><html><body><article class="h-entry">
            <span class="p-author h-card"><a class="u-url p-name" href="/">Ann Example</a></span>
            <a class="u-in-reply-to" href="{target}">Vera's comment</a>
            <div class="e-content"><p>Replying from my own site.</p></div></article></body></html>"""
        )
        data = {"source": other.url("/answer"), "target": target}
        async with aiohttp.ClientSession() as client, client.post(f"{site.url}/webmention", data=data) as answer:
            assert answer.status == 202

        async def answered() -> Comment | None:
            found = [c for c in await site.ctx.comments.list_by_status() if "own site" in c.content_html]
            return found[0] if found and found[0].status == CommentStatus.APPROVED else None

        reply = await eventually(answered, "the webmention never became a published comment")
    finally:
        await other.close()
    # Then it sits under her comment on the page, and she gets one e-mail about it
    assert reply.parent_id == mine
    page = (await get(site, f"/posts/{post.slug}")).text
    assert thread_parents(page)[reply.id] == mine
    assert await run(site) == 1
    mail = to_commenters(smtp)[-1]
    assert smtp.recipients[-1] == [VERA] and "replied to your comment" in mail["Subject"]
    assert "Replying from my own site." in body(mail)
