"""Notes, pure: read a remote Note into comment fields, build the Note of a local comment and of a post.

Reading follows what Mastodon reads (INTEROP §3): `content` or the first `contentMap` value (whose key is the
language), `summary` as the content warning, `sensitive`, at most 4 http(s) attachments, `inReplyTo` as an id,
an object or a list, visibility from `to`/`cc`. Every field may be missing, scalar or a list.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedblog.clock import from_text, to_text
from fedblog.models import Attachment, Comment, Post, Visibility
from fedblog.protocol.activitystreams import (
    AS_CONTEXT,
    MAX_ACTIVITY_BYTES,
    PUBLIC,
    PUBLIC_FORMS,
    as_list,
    first_id,
    ids_of,
    type_of,
)
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.hashtags import hashtag_name
from fedblog.protocol.images import ImageFacts, image_attachments
from fedblog.protocol.quotes import QUOTE_TERMS, interaction_policy
from fedblog.protocol.sanitize import plain_text, sanitize_html
from fedblog.rendering import excerpt
from fedblog.urls import Urls

NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
MAX_ATTACHMENTS = 4
MAX_SUMMARY = 500
MAX_ALT_TEXT = 1500
_LANG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,4}$")

# The extension terms Mastodon uses, so peers that do expand JSON-LD read our fields right.
NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "blurhash": "toot:blurhash",
        **QUOTE_TERMS,
    },
]
# A comment's Note carries Mentions only: no Hashtag nor BlurHash terms.
COMMENT_NOTE_CONTEXT: list[Any] = [AS_CONTEXT, {"sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#"}]


class NoteError(ValueError):
    """The object is not a Note we can show (wrong type, no id, no content)."""


@dataclass(frozen=True)
class ParsedNote:
    id: str
    type: str
    attributed_to: str | None
    content_html: str
    language: str | None
    summary: str
    sensitive: bool
    attachments: tuple[Attachment, ...]
    in_reply_to: str | None
    visibility: Visibility
    mentions: tuple[str, ...]
    url: str | None
    published: datetime | None
    updated: datetime | None


def visibility_of(obj: dict[str, Any], followers_url: str | None = None) -> Visibility:
    """Public in `to` = public, in `cc` = unlisted; a followers collection = followers; else direct."""
    to, cc = ids_of(obj.get("to")), ids_of(obj.get("cc"))
    if any(address in PUBLIC_FORMS for address in to):
        return Visibility.PUBLIC
    if any(address in PUBLIC_FORMS for address in cc):
        return Visibility.UNLISTED
    for address in to + cc:
        if address == followers_url or address.rstrip("/").endswith("/followers"):
            return Visibility.FOLLOWERS
    return Visibility.DIRECT


def content_and_language(obj: dict[str, Any]) -> tuple[str, str | None]:
    content = obj.get("content")
    language = None
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict):
        for key, value in content_map.items():
            if isinstance(key, str) and isinstance(value, str):
                language = key if _LANG_RE.match(key) else None
                if not isinstance(content, str) or not content:
                    content = value
                break
    return (content if isinstance(content, str) else ""), language


def attachments_of(obj: dict[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for item in as_list(obj.get("attachment")):
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if isinstance(url, dict | list):
            # A Link object, or a list of them: take the first http(s) href.
            url = next((u for u in (first_id(x) for x in as_list(url)) if is_http_url(u)), None)
        if not is_http_url(url):
            continue
        media_type = item.get("mediaType")
        if not isinstance(media_type, str) or not re.match(r"^[\w.+-]+/[\w.+-]+$", media_type):
            media_type = ""
        found.append(Attachment(url=url, media_type=media_type, name=plain_text(item.get("name"), MAX_ALT_TEXT)))
        if len(found) == MAX_ATTACHMENTS:
            break
    return tuple(found)


def mentions_of(obj: dict[str, Any]) -> tuple[str, ...]:
    hrefs = []
    for tag in as_list(obj.get("tag")):
        if isinstance(tag, dict) and type_of(tag) == "Mention" and is_http_url(tag.get("href")):
            hrefs.append(tag["href"])
    return tuple(hrefs)


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return from_text(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_note(obj: Any, followers_url: str | None = None) -> ParsedNote:
    """A remote Note (or Article, Page, Question) as comment fields; raises NoteError if unusable."""
    if not isinstance(obj, dict):
        raise NoteError("the object is not embedded")
    kind = type_of(obj)
    if kind not in NOTE_TYPES:
        raise NoteError(f"unsupported object type {kind!r}")
    object_id = obj.get("id")
    if not is_http_url(object_id):
        raise NoteError("the object has no usable id")
    content, language = content_and_language(obj)
    if kind in ("Article", "Page") and isinstance(obj.get("name"), str):
        content = f"<p><strong>{html.escape(plain_text(obj['name'], 300))}</strong></p>{content}"
    attributed = first_id(obj.get("attributedTo"))
    url = first_id(obj.get("url"))
    summary = plain_text(obj.get("summary"), MAX_SUMMARY)
    return ParsedNote(
        id=object_id,
        type=kind or "Note",
        attributed_to=attributed if is_http_url(attributed) else None,
        content_html=sanitize_html(content),
        language=language,
        summary=summary,
        sensitive=obj.get("sensitive") is True or bool(summary),
        attachments=attachments_of(obj),
        in_reply_to=first_id(obj.get("inReplyTo")),
        visibility=visibility_of(obj, followers_url),
        mentions=mentions_of(obj),
        # Mastodon drops a permalink on another host than the object: it could point anywhere.
        url=url if is_http_url(url) and same_origin(url, object_id) else None,
        published=_date(obj.get("published")),
        updated=_date(obj.get("updated")),
    )


# --- building the Notes of local comments ---------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A remote author mentioned and addressed by a local comment."""

    actor_id: str
    handle: str | None
    profile_url: str | None


def mention_name(recipient: Recipient) -> str:
    handle = recipient.handle or ""
    if handle and not handle.startswith("@"):
        handle = "@" + handle
    return handle or recipient.actor_id


def mention_html(recipient: Recipient) -> str:
    """Mastodon's own mention markup, so the mention renders as a link on every server."""
    name = mention_name(recipient).lstrip("@").split("@", 1)[0]
    href = html.escape(recipient.profile_url or recipient.actor_id)
    return f'<span class="h-card"><a href="{href}" class="u-url mention">@<span>{html.escape(name)}</span></a></span>'


def comment_to_note(
    urls: Urls,
    comment: Comment,
    *,
    in_reply_to: str,
    recipients: list[Recipient],
    attribution: str | None = None,
    with_context: bool = True,
) -> dict[str, Any]:
    """A local comment as a Note by the blog's actor.

    The author's replies are public with the followers in cc (direct when answering a private mention). A
    visitor's comment is unlisted (Public in cc), addressed to the remote authors, and its content opens with
    `attribution` naming the visitor, so that it never reads as the blog author's words.
    """
    note_id = urls.comment_object(comment.id)
    mentions = " ".join(mention_html(recipient) for recipient in recipients)
    content = comment.content_html
    if attribution:
        content = f"<p>{mentions + ' ' if mentions else ''}{attribution}</p>{content}"
    elif mentions:
        content = f"<p>{mentions}</p>{content}"
    actors = [recipient.actor_id for recipient in recipients]
    if not comment.visibility.is_shown_publicly:
        to, cc = actors, []  # an answer to a private mention: for that person only
    elif attribution:
        to, cc = actors, [PUBLIC]
    else:
        to, cc = [PUBLIC, *actors], [urls.followers()]
    note: dict[str, Any] = {"@context": COMMENT_NOTE_CONTEXT} if with_context else {}
    note.update(
        {
            "id": note_id,
            "type": "Note",
            "attributedTo": urls.actor(),
            "inReplyTo": in_reply_to,
            "published": to_text(comment.approved_at or comment.created_at),
            "url": urls.comment_anchor(comment.post_slug, comment.id),
            "to": to,
            "cc": cc,
            "sensitive": False,
            "content": content,
            "tag": [{"type": "Mention", "href": r.actor_id, "name": mention_name(r)} for r in recipients],
            "context": urls.conversation(comment.post_slug),
            "replies": {
                "id": urls.comment_replies(comment.id),
                "type": "OrderedCollection",
                "first": urls.comment_replies(comment.id, 1),
            },
        }
    )
    if comment.language:
        note["contentMap"] = {comment.language: content}
    if comment.updated_at:
        note["updated"] = to_text(comment.updated_at)
    return note


def attribution_line(template: str, visitor_name: str) -> str:
    """The visitor's name in bold inside a translated line such as "%(name)s (visitor…) wrote:"."""
    return html.escape(template).replace(html.escape("%(name)s"), f"<strong>{html.escape(visitor_name)}</strong>")


# --- posts as Notes ---------------------------------------------------------------------------------------


def post_hashtags(urls: Urls, post: Post) -> list[tuple[str, str]]:
    """(name, page URL) of a post's Hashtags: its tags, then its categories not already among them."""
    found = [(tag, urls.tag(tag)) for tag in post.tags]
    seen = {tag.lower() for tag in post.tags}
    for category in post.categories:
        name = hashtag_name(category.name)
        if name and name.lower() not in seen:
            found.append((name, urls.category(category.slug)))
            seen.add(name.lower())
    return found


def hashtag_links(hashtags: Sequence[tuple[str, str]]) -> str:
    links = " ".join(
        f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">#<span>{html.escape(name)}</span></a>'
        for name, href in hashtags
    )
    return f"<p>{links}</p>" if links else ""


def note_content(urls: Urls, post: Post, body_html: str | None = None) -> str:
    """The title as a link to the page, then the body, then the hashtags (Mastodon shows Notes in full)."""
    url = html.escape(urls.note(post.slug))
    title = f'<p><strong><a href="{url}">{html.escape(post.title)}</a></strong></p>'
    return title + (post.body_html if body_html is None else body_html) + hashtag_links(post_hashtags(urls, post))


def post_to_note(
    urls: Urls,
    post: Post,
    with_context: bool = True,
    images: Mapping[str, ImageFacts] | None = None,
    quote_policy: str = "anyone",
) -> dict[str, Any]:
    """A published post as the Note at its own HTML URL, kept under Misskey's 64 KiB limit; `images` gives the
    size and BlurHash of the blog's own uploads among the post's images; `quote_policy` who may quote it
    (FEP-044f `interactionPolicy`, federation.quote_policy)."""
    note_id = urls.note(post.slug)
    note: dict[str, Any] = {}
    if with_context:
        note["@context"] = NOTE_CONTEXT
    note.update(
        {
            "id": note_id,
            "type": "Note",
            "attributedTo": urls.actor(),
            "url": note_id,
            "published": to_text(post.published_at),
            "to": [PUBLIC],
            "cc": [urls.followers()],
            "summary": post.summary or None,
            "sensitive": bool(post.summary),
            "content": note_content(urls, post),
            "contentMap": {},
            "tag": [{"type": "Hashtag", "href": href, "name": f"#{name}"} for name, href in post_hashtags(urls, post)],
            "attachment": image_attachments(urls, post.body_html, images),
            "context": urls.conversation(post.slug),
            "replies": {
                "id": urls.replies(post.slug),
                "type": "OrderedCollection",
                "first": urls.replies(post.slug, 1),
            },
            "interactionPolicy": interaction_policy(urls, quote_policy),
        }
    )
    if post.updated_at:
        note["updated"] = to_text(post.updated_at)
    note["contentMap"] = {post.language: note["content"]}
    if len(json.dumps(note).encode()) > MAX_ACTIVITY_BYTES:
        # Too long for some peers: send the opening and a link to the full text.
        more = f'<p><a href="{html.escape(note_id)}">{html.escape(note_id)}</a></p>'
        short = f"<p>{html.escape(excerpt(post.body_html, 2000))}</p>{more}"
        note["content"] = note_content(urls, post, short)
        note["contentMap"] = {post.language: note["content"]}
    return note


def tombstone(object_id: str, former_type: str = "Note", deleted: datetime | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": object_id, "type": "Tombstone", "formerType": former_type, "atomUri": object_id}
    if deleted is not None:
        found["deleted"] = to_text(deleted)
    return found
