"""The commenters' e-mails, pure: the confirmation, one reply, a digest of new comments; plain text.

Names and texts from outside are reduced to one line of plain text (notification_mail.one_line), so nothing can
break a header or forge a line; the only links are to this site. No address but the recipient's appears, and that
only in To. Every mail but the confirmation carries RFC 8058 one-click unsubscribe headers for its thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedblog.i18n import I18n
from fedblog.models import AuthorKind, Comment
from fedblog.rendering import excerpt
from fedblog.services.notification_mail import BLOCK_TAG, NAME, one_line
from fedblog.urls import Urls

REPLY_EXCERPT = 600
DIGEST_EXCERPT = 200
DIGEST_LISTED = 20


@dataclass(frozen=True)
class Links:
    """This site's links for one mail (tokens already in them)."""

    stop: str | None  # this thread; None for the confirmation
    stop_all: str
    manage: str
    confirm: str | None = None


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    headers: dict[str, str]


def unsubscribe_headers(stop_url: str) -> dict[str, str]:
    """RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" to the URL, no page to visit."""
    return {"List-Unsubscribe": f"<{stop_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def author_label(comment: Comment) -> str:
    who = comment.author
    name = one_line(who.name or who.handle or "", NAME)
    if who.kind == AuthorKind.REMOTE and who.handle:
        handle = one_line(who.handle if who.handle.startswith("@") else "@" + who.handle, 200)
        return f"{name} ({handle})" if name and name != handle else handle
    return name


def comment_text(comment: Comment, limit: int) -> str:
    return one_line(excerpt(BLOCK_TAG.sub(" <", comment.content_html), limit), limit + 1)


def _footer(i18n: I18n, links: Links, why: str) -> list[str]:
    _ = i18n.gettext
    lines = ["", "-- ", why]
    if links.stop:
        lines.append(_("Stop e-mails for this thread: %(url)s") % {"url": links.stop})
    lines.append(_("Stop all e-mails from this blog: %(url)s") % {"url": links.stop_all})
    lines.append(_("Your subscriptions: %(url)s") % {"url": links.manage})
    return lines


def confirmation_mail(title: str, post_title: str, links: Links, i18n: I18n) -> Mail:
    _ = i18n.gettext
    where = {"title": one_line(title, NAME), "post": one_line(post_title, NAME)}
    body = [
        _(
            "Someone, probably you, left a comment on “%(post)s” (%(title)s) and asked to be told by e-mail of what "
            "follows."
        )
        % where,
        "",
        _("To confirm this address, open this link and press the button:"),
        links.confirm or "",
        "",
        _("If it was not you, ignore this e-mail: nothing else will be sent to this address."),
    ]
    body += _footer(i18n, links, _("Sent once, because this address was typed into the blog's comment form."))
    subject = f"[{where['title']}] " + _("Confirm your e-mail address")
    return Mail(subject, "\n".join(body) + "\n", {})


def reply_mail(title: str, reply: Comment, urls: Urls, links: Links, i18n: I18n) -> Mail:
    _ = i18n.gettext
    where = {"author": author_label(reply), "post": one_line(reply.post_title, NAME), "title": one_line(title, NAME)}
    body = [
        _("%(author)s replied to your comment on “%(post)s”:") % where,
        "",
        comment_text(reply, REPLY_EXCERPT),
        "",
        _("Read it and answer: %(url)s") % {"url": urls.comment_anchor(reply.post_slug, reply.id)},
    ]
    body += _footer(i18n, links, _("You asked to be told of replies to your comment on %(title)s.") % where)
    subject = f"[{where['title']}] " + _("%(author)s replied to your comment on “%(post)s”") % where
    return Mail(subject, "\n".join(body) + "\n", unsubscribe_headers(links.stop or links.stop_all))


def digest_mail(title: str, post_title: str, comments: list[Comment], urls: Urls, links: Links, i18n: I18n) -> Mail:
    _ = i18n.gettext
    count = len(comments)
    where = {"post": one_line(post_title, NAME), "title": one_line(title, NAME), "count": count}
    phrase = i18n.ngettext("%(count)d new comment on “%(post)s”", "%(count)d new comments on “%(post)s”", count) % where
    body = [phrase + ":", ""]
    for comment in comments[:DIGEST_LISTED]:
        body += [f"- {author_label(comment)}", "  " + comment_text(comment, DIGEST_EXCERPT)]
        body += ["  " + urls.comment_anchor(comment.post_slug, comment.id), ""]
    if count > DIGEST_LISTED:
        more = count - DIGEST_LISTED
        body.append(i18n.ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more})
    body += _footer(i18n, links, _("You asked to be told of new comments on this post of %(title)s.") % where)
    return Mail(
        f"[{where['title']}] " + phrase, "\n".join(body) + "\n", unsubscribe_headers(links.stop or links.stop_all)
    )
