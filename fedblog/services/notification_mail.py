"""The author's notification e-mails, pure: a digest (held and new comments, followers) or a test, as plain text.

Everything from outside (names, comment text) is reduced to one line of plain text without control or bidi characters;
the only links are to this site (the admin queue, the comment on its post). Commenters' e-mail addresses never appear.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from fedblog.config import NotificationSettings
from fedblog.i18n import I18n
from fedblog.models import Visibility
from fedblog.rendering import excerpt
from fedblog.store.notifications import CommentNotice, FollowerNotice, Page
from fedblog.urls import Urls

LISTED = 10  # items listed per section; the rest are counted ("and 12 more")
EXCERPT = 200
NAME = 80
# Paragraphs and line breaks become spaces before the tags go: "<p>a</p><p>b</p>" reads "a b", not "ab".
BLOCK_TAG = re.compile(r"<(?=/?(?:p|br|div|li|blockquote|h[1-6]|pre)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Digest:
    held: Page[CommentNotice]
    published: Page[CommentNotice]
    followers: Page[FollowerNotice]
    requests: Page[FollowerNotice]

    @property
    def total(self) -> int:
        return self.held.total + self.published.total + self.followers.total + self.requests.total


def one_line(text: str, limit: int) -> str:
    """Plain text on one line: no control, format (bidi) or line-breaking characters; cut at `limit`."""
    kept = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text)
    kept = re.sub(r"\s+", " ", kept).strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def digest_subject(digest: Digest, title: str, i18n: I18n) -> str:
    return f"[{one_line(title, NAME)}] " + ", ".join(_count_phrases(digest, i18n))


def _count_phrases(digest: Digest, i18n: I18n) -> list[str]:
    sections = (
        (digest.held.total, _held_phrase),
        (digest.published.total, _published_phrase),
        (digest.followers.total, _followers_phrase),
        (digest.requests.total, _requests_phrase),
    )
    return [phrase(count, i18n) for count, phrase in sections if count]


def _held_phrase(count: int, i18n: I18n) -> str:
    return i18n.ngettext("%(count)d comment awaiting moderation", "%(count)d comments awaiting moderation", count) % {
        "count": count
    }


def _published_phrase(count: int, i18n: I18n) -> str:
    return i18n.ngettext("%(count)d new comment", "%(count)d new comments", count) % {"count": count}


def _followers_phrase(count: int, i18n: I18n) -> str:
    return i18n.ngettext("%(count)d new follower", "%(count)d new followers", count) % {"count": count}


def _requests_phrase(count: int, i18n: I18n) -> str:
    return i18n.ngettext("%(count)d follow request", "%(count)d follow requests", count) % {"count": count}


def digest_body(digest: Digest, title: str, urls: Urls, i18n: I18n) -> str:
    _ = i18n.gettext
    lines = [_("New on %(title)s since the last e-mail:") % {"title": one_line(title, NAME)}, ""]
    if digest.held.total:
        lines += [_held_phrase(digest.held.total, i18n), _("Moderation queue: %(url)s") % {"url": _held_url(urls)}, ""]
        lines += _comment_lines(digest.held, urls, i18n)
    if digest.published.total:
        lines += [_published_phrase(digest.published.total, i18n), ""]
        lines += _comment_lines(digest.published, urls, i18n)
    for page, phrase in ((digest.requests, _requests_phrase), (digest.followers, _followers_phrase)):
        if page.total:
            lines += [phrase(page.total, i18n), _("Followers: %(url)s") % {"url": urls.admin("/followers")}, ""]
            lines += [f"- {_follower_label(item)}" for item in page.items]
            lines += _more_line(page, i18n)
            lines.append("")
    lines += ["-- ", _("Sent by your blog because notifications.email is set in its configuration."), urls.base]
    return "\n".join(lines) + "\n"


def _held_url(urls: Urls) -> str:
    return urls.admin("/comments?status=pending")


def _comment_lines(page: Page[CommentNotice], urls: Urls, i18n: I18n) -> list[str]:
    _ = i18n.gettext
    lines = []
    for item in page.items:
        where = {"author": one_line(item.author_name, NAME), "post": one_line(item.post_title, NAME)}
        lines.append("- " + _("%(author)s on “%(post)s”") % where + f" ({_origin_label(item, i18n)})")
        text = excerpt(BLOCK_TAG.sub(" <", item.content_html), EXCERPT)
        if item.summary:
            text = _("Content warning: %(summary)s") % {"summary": item.summary} + " — " + text
        if text:
            lines.append("  " + one_line(text, EXCERPT + NAME))
        lines.append("  " + _comment_url(item, urls))
    lines += _more_line(page, i18n)
    lines.append("")
    return lines


def _comment_url(item: CommentNotice, urls: Urls) -> str:
    if item.status == "pending":
        return f"{_held_url(urls)}#comment-{item.id}"
    if not Visibility(item.visibility).is_shown_publicly:
        return urls.admin("/mentions")
    return urls.comment_anchor(item.post_slug, item.id)


def _origin_label(item: CommentNotice, i18n: I18n) -> str:
    _ = i18n.gettext
    if not Visibility(item.visibility).is_shown_publicly:
        return _("private mention")
    if item.origin == "webmention":
        return _("webmention") + (f": {item.mention_kind}" if item.mention_kind else "")
    return _("fediverse") if item.origin == "fediverse" else _("comment form")


def _follower_label(item: FollowerNotice) -> str:
    name = one_line(item.name, NAME)
    handle = one_line(item.handle or item.actor_id, 200)
    return f"{name} ({handle})" if name and name != handle else handle


def _more_line(page: Page[Any], i18n: I18n) -> list[str]:
    more = page.total - len(page.items)
    if more <= 0:
        return []
    return [i18n.ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more}]


def build_message(settings: NotificationSettings, urls: Urls, subject: str, body: str, now: datetime) -> EmailMessage:
    """Headers and the plain-text body; Auto-Submitted keeps vacation replies away (RFC 3834)."""
    message = EmailMessage()
    message["From"] = settings.from_address or settings.email
    message["To"] = settings.email
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("fedblog", domain=urlsplit(urls.base).hostname or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def trial_subject(title: str, i18n: I18n) -> str:
    return f"[{one_line(title, NAME)}] " + i18n.gettext("Test notification")


def trial_body(urls: Urls, i18n: I18n) -> str:
    _ = i18n.gettext
    return (
        _("This is a test message from your blog: e-mail notifications work with the current settings.")
        + "\n\n-- \n"
        + urls.base
        + "\n"
    )
