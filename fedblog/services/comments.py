"""One thread per post, one moderation queue, whatever the comment's origin."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fedblog.clock import to_text, utcnow
from fedblog.context import Context
from fedblog.models import Comment, CommentNode, CommentOrigin, CommentStatus, Post, Visibility
from fedblog.protocol.ids import parse_positive_int
from fedblog.protocol.names import could_pass_for, visible_name
from fedblog.protocol.sanitize import sanitize_html
from fedblog.rendering import html_to_plain_message, html_to_text, plain_text_to_html, render_markdown
from fedblog.services.subscriptions import address_fits_mail, subscribe_from_form
from fedblog.store.comments import NewAuthor, NewComment, OwnerAuthor, VisitorAuthor
from fedblog.store.db import Conflict, Connection

MAX_NAME = 100
MAX_EMAIL = 254
MAX_WEBSITE = 300
# A pragmatic shape check: something@domain.tld with no spaces or control characters.
_EMAIL_RE = re.compile(
    r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# "mailto:…", "javascript:…": a scheme that is not followed by a port number.
_OTHER_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")


@dataclass(frozen=True)
class CommentForm:
    name: str = ""
    email: str = ""
    website: str = ""
    message: str = ""
    parent_id: str = ""
    notify_replies: str = ""  # "Notify me of replies to my comment by e-mail" ticked ("on")
    notify_post: str = ""  # "Notify me of new comments on this post" ticked


@dataclass
class SubmitResult:
    comment: Comment | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.comment is not None and self.comment.status != CommentStatus.APPROVED


def moderation_decision(policy: str, trusted: bool) -> CommentStatus:
    """The moderation policy as a pure function: open, first_time (trust after one approval), hold_all."""
    if policy == "open":
        return CommentStatus.APPROVED
    if policy == "first_time" and trusted:
        return CommentStatus.APPROVED
    return CommentStatus.PENDING


class CommentsClosed(Exception):
    """The post takes no new comments (closed by the author, or older than comments.close_after_days)."""


def accepts_comments(post: Post, close_after_days: int, now: datetime) -> bool:
    """Open unless the author closed this post, or the site closes posts `close_after_days` after publication."""
    return comments_are_open(post.comments_open, post.published_at, close_after_days, now)


def comments_are_open(open_by_author: bool, published_at: datetime, close_after_days: int, now: datetime) -> bool:
    if not open_by_author:
        return False
    return close_after_days == 0 or now < published_at + timedelta(days=close_after_days)


def normalize_website(text: str) -> str:
    """A website typed without a scheme ("jean.example") is taken as https://; other schemes are left for
    validation to refuse."""
    website = text.strip()
    if not website or website.lower().startswith(("http://", "https://")):
        return website
    if website.startswith("//"):
        return "https:" + website
    if _OTHER_SCHEME_RE.match(website):
        return website
    return "https://" + website


def clean_line(text: str) -> str:
    return _CONTROL_RE.sub("", text).strip()


def build_thread(comments: list[Comment]) -> list[CommentNode]:
    """Nest comments under their parents; a reply whose parent is not shown goes to the top level."""
    nodes = {c.id: CommentNode(c) for c in comments}
    roots: list[CommentNode] = []
    for comment in comments:
        node = nodes[comment.id]
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)

    # Iterative, not recursive: a thread from the fediverse may be deeper than Python's recursion limit.
    pending = [(node, 0) for node in roots]
    while pending:
        node, depth = pending.pop()
        node.depth = depth
        pending.extend((child, depth + 1) for child in node.children)
    return roots


@dataclass(frozen=True)
class Admission:
    """A new comment from any source, before moderation (its `new.status` is decided by admit())."""

    new: NewComment
    author: NewAuthor
    trusted: bool = False  # the author had a comment approved before (first_time moderation)
    parent: Comment | None = None
    by_owner: bool = False  # the author's own reply: approved at once, never held


# Work of the comment's source in the transaction that stores it (its own record), given the comment.
AlsoInTransaction = Callable[[Connection, Comment], Awaitable[None]]


async def moderated_status(ctx: Context, post_id: int, trusted: bool) -> CommentStatus:
    """The moderation policy, then the closed-comments hold: a comment that would be published on a closed post
    waits for the author (nothing from the fediverse or the web is lost)."""
    status = moderation_decision(ctx.settings.comments.moderation, trusted)
    if status == CommentStatus.APPROVED:
        post = await ctx.posts.get_post_by_id(post_id)
        if post is not None and not accepts_comments(post, ctx.settings.comments.close_after_days, utcnow()):
            status = CommentStatus.PENDING
    return status


async def admit(ctx: Context, admission: Admission, *, also: AlsoInTransaction | None = None) -> Comment | None:
    """The one way a comment comes in, whatever its source (the form, the author's replies, fediverse replies,
    webmentions): the moderation decision and the closed hold, the listeners' network work before the
    transaction, then in one transaction the author's row, the comment, `also` and the listeners.

    None when a comment with the same remote id was stored meanwhile (a duplicate arriving at once): the caller
    looks that one up."""
    if admission.by_owner:
        status = CommentStatus.APPROVED  # the author's own reply: never held
    else:
        status = await moderated_status(ctx, admission.new.post_id, admission.trusted)
    approved = status == CommentStatus.APPROVED
    if approved:
        for listener in ctx.comment_listeners:
            await listener.prepare(admission.new.origin, admission.parent)
    try:
        async with ctx.db.transaction() as conn:
            comment = await ctx.comments.add_comment(conn, replace(admission.new, status=status), admission.author)
            if also is not None:
                await also(conn, comment)
            if approved:
                for listener in ctx.comment_listeners:
                    await listener.comment_approved(conn, comment)
    except Conflict:  # a comment with this remote id exists already
        if admission.new.remote_id is None:
            raise
        return None
    return comment


def keeps_markup(comment: Comment) -> bool:
    """A comment written elsewhere (a fediverse reply, a webmention's page) is edited by the author as its sanitized
    HTML: its links, mentions and paragraphs stay what its writer made them (a text edit flattened them)."""
    return comment.origin in (CommentOrigin.FEDIVERSE, CommentOrigin.WEBMENTION)


def edit_source(comment: Comment) -> str:
    """What the admin's edit form holds for a comment: its HTML when the edit keeps markup, and for the author's
    own (Markdown passes the HTML through as written, so its links and emphasis stay), else its text."""
    if keeps_markup(comment) or comment.origin == CommentOrigin.AUTHOR:
        return comment.content_html
    return html_to_plain_message(comment.content_html)


class CommentService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.comments

    def validate(self, form: CommentForm) -> dict[str, str]:
        _ = self.ctx.i18n.gettext
        errors: dict[str, str] = {}
        name, email, website, message = (
            clean_line(form.name),
            form.email.strip(),
            normalize_website(form.website),
            form.message.strip(),
        )
        if not name:
            errors["name"] = _("Please enter your name.")
        elif not visible_name(name):
            errors["name"] = _("Your name is made only of invisible characters: please enter a name people can read.")
        elif len(name) > MAX_NAME:
            errors["name"] = _("Your name is too long (at most %(max)d characters).") % {"max": MAX_NAME}
        elif self.passes_for_the_author(name):
            errors["name"] = _("This name looks like the author's: please use another one.")
        if not email:
            errors["email"] = _("Please enter your email address.")
        elif len(email) > MAX_EMAIL or not _EMAIL_RE.match(email):
            errors["email"] = _("This email address does not look valid.")
        if website:
            parts = urlsplit(website)
            if (
                len(website) > MAX_WEBSITE
                or parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.username
                or _CONTROL_RE.search(website)
                or any(c.isspace() for c in website)
            ):
                errors["website"] = _("The website must be an http:// or https:// address.")
        max_length = self.ctx.settings.comments.max_length
        if not message:
            errors["message"] = _("Please write a message.")
        elif len(message) > max_length:
            errors["message"] = _("Your message is too long (at most %(max)d characters).") % {"max": max_length}
        return errors

    def offers_notifications(self) -> bool:
        """The form's "notify me" boxes: on unless turned off, once there is a mail server and a sender address
        (notifications.from_address, else the author's notifications.email)."""
        settings = self.ctx.settings
        mail = settings.notifications
        return settings.comments.reply_notifications and bool(mail.smtp_host and (mail.from_address or mail.email))

    def passes_for_the_author(self, name: str) -> bool:
        """A visitor's name that could be read as the author's display name or handle (homoglyphs, invisible
        characters, case): refused, since the page shows names as they are."""
        author = self.ctx.settings.author
        return any(could_pass_for(name, own) for own in (author.display_name, author.username) if own)

    def accepts_comments(self, post: Post) -> bool:
        return accepts_comments(post, self.ctx.settings.comments.close_after_days, utcnow())

    async def submit_web_comment(self, post: Post, form: CommentForm, ip: str | None) -> SubmitResult:
        if not self.accepts_comments(post):
            raise CommentsClosed(post.slug)
        errors = self.validate(form)
        parent_id: int | None = None
        parent: Comment | None = None
        if form.parent_id:
            wanted = parse_positive_int(form.parent_id)
            parent = await self.store.get_comment(wanted) if wanted is not None else None
            if parent is None or parent.post_id != post.id or parent.status != CommentStatus.APPROVED:
                errors["parent_id"] = self.ctx.i18n.gettext("The comment you reply to does not exist.")
            else:
                parent_id = parent.id
        wants_mail = self.offers_notifications() and bool(form.notify_replies or form.notify_post)
        if wants_mail and "email" not in errors and not address_fits_mail(form.email.strip()):
            errors["email"] = self.ctx.i18n.gettext("E-mails cannot be sent to this address.")
        if errors:
            return SubmitResult(errors=errors)
        email = form.email.strip().lower()
        new = NewComment(
            post_id=post.id,
            parent_id=parent_id,
            author_id=0,
            origin=CommentOrigin.WEB,
            status=CommentStatus.PENDING,
            content_html=plain_text_to_html(form.message),
            language=None,
            ip=ip,
        )
        author = VisitorAuthor(visible_name(clean_line(form.name)), email, normalize_website(form.website) or None)
        trusted = await self.store.email_is_trusted(email)

        async def subscribe(conn: Connection, comment: Comment) -> None:
            await subscribe_from_form(self.ctx, conn, comment, email, bool(form.notify_replies), bool(form.notify_post))

        comment = await admit(
            self.ctx, Admission(new, author, trusted=trusted, parent=parent), also=subscribe if wants_mail else None
        )
        return SubmitResult(comment=comment)

    async def reply_as_author(self, parent_id: int, message_markdown: str) -> Comment:
        """The author answers a comment: approved at once, and federated by the listeners."""
        parent = await self.store.get_comment(parent_id)
        if parent is None:
            raise LookupError(f"no comment {parent_id}")
        if not message_markdown.strip():
            raise ValueError("the reply is empty")
        settings = self.ctx.settings
        new = NewComment(
            post_id=parent.post_id,
            parent_id=parent.id,
            author_id=0,
            origin=CommentOrigin.AUTHOR,
            status=CommentStatus.APPROVED,
            content_html=render_markdown(message_markdown),
            language=settings.site.language,
            # An answer to a private mention stays private (conversations: sent to that person only).
            visibility=parent.visibility if not parent.visibility.is_shown_publicly else Visibility.PUBLIC,
        )
        name = settings.author.display_name or settings.author.username
        owner = OwnerAuthor(name, self.ctx.urls.actor(), self.ctx.urls.profile())
        comment = await admit(self.ctx, Admission(new, owner, parent=parent, by_owner=True))
        assert comment is not None  # no remote id: never a duplicate
        return comment

    async def set_status(self, comment_id: int, status: CommentStatus) -> Comment:
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise LookupError(f"no comment {comment_id}")
        if (status == CommentStatus.APPROVED) != (comment.status == CommentStatus.APPROVED):
            await self._prepare_for(comment)
        async with self.ctx.db.transaction() as conn:
            await self.store.set_status(conn, comment_id, status)
            updated = await self.store.get_comment(comment_id)
            assert updated is not None
            for listener in self.ctx.comment_listeners:
                if status == CommentStatus.APPROVED and comment.status != CommentStatus.APPROVED:
                    await listener.comment_approved(conn, updated)
                elif status != CommentStatus.APPROVED and comment.status == CommentStatus.APPROVED:
                    await listener.comment_removed(conn, updated)
        return updated

    def validate_message(self, message: str) -> str | None:
        """The error for an edited message, or None."""
        _ = self.ctx.i18n.gettext
        max_length = self.ctx.settings.comments.max_length
        if not message.strip():
            return _("Please write a message.")
        if len(message.strip()) > max_length:
            return _("Your message is too long (at most %(max)d characters).") % {"max": max_length}
        return None

    async def edit_comment(self, comment_id: int, content_html: str) -> Comment:
        """New text for a comment (its writer within the edit window, or the author from the admin): marked edited,
        and when published, an Update goes to whoever got the comment."""
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise LookupError(f"no comment {comment_id}")
        if comment.status == CommentStatus.APPROVED:  # the listeners' network work, before the transaction
            parent = await self.store.get_comment(comment.parent_id) if comment.parent_id else None
            for listener in self.ctx.comment_listeners:
                await listener.prepare(comment.origin, parent)
        async with self.ctx.db.transaction() as conn:
            await self.store.update_content(
                conn,
                comment_id,
                content_html,
                comment.summary,
                comment.sensitive,
                comment.attachments,
                to_text(utcnow()),
            )
            updated = await self.store.get_comment(comment_id)
            assert updated is not None
            if updated.status == CommentStatus.APPROVED:
                for listener in self.ctx.comment_listeners:
                    # Optional: listeners written before edits existed have nothing to do for one.
                    edited = getattr(listener, "comment_edited", None)
                    if edited is not None:
                        await edited(conn, updated)
        return updated

    async def edit_as_author(self, comment_id: int, text: str) -> Comment:
        """The admin's edit: Markdown for the author's own comments, HTML (sanitized) for comments written elsewhere
        (see keeps_markup), plain text (as the form takes it) for the web's. Raises ValueError when nothing is left."""
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise LookupError(f"no comment {comment_id}")
        if comment.origin == CommentOrigin.AUTHOR:
            content = render_markdown(text)
        elif keeps_markup(comment) and "<" in text:
            content = sanitize_html(text)
        else:
            content = plain_text_to_html(text)
        if not html_to_text(content):
            raise ValueError("the comment is empty")
        return await self.edit_comment(comment_id, content)

    async def approve(self, comment_id: int) -> Comment:
        return await self.set_status(comment_id, CommentStatus.APPROVED)

    async def mark_spam(self, comment_id: int) -> Comment:
        return await self.set_status(comment_id, CommentStatus.SPAM)

    async def delete(self, comment_id: int) -> Comment:
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise LookupError(f"no comment {comment_id}")
        if comment.status == CommentStatus.APPROVED:
            await self._prepare_for(comment)
        async with self.ctx.db.transaction() as conn:
            if comment.status == CommentStatus.APPROVED:
                for listener in self.ctx.comment_listeners:
                    await listener.comment_removed(conn, comment)
            await self.store.delete_comment(conn, comment_id)
        return comment

    async def _prepare(self, origin: CommentOrigin, parent: Comment | None) -> None:
        """The listeners' network work, before the transaction (none may happen inside it)."""
        for listener in self.ctx.comment_listeners:
            await listener.prepare(origin, parent)

    async def _prepare_for(self, comment: Comment) -> None:
        parent = await self.store.get_comment(comment.parent_id) if comment.parent_id else None
        await self._prepare(comment.origin, parent)

    async def thread_for_post(self, post: Post) -> list[CommentNode]:
        return build_thread(await self.store.list_visible_for_post(post.id))
