"""ActivityStreams 2.0, pure: build what fedblog serves and sends, read what peers send (no I/O).

Writing: scalar `id`, `type`, `actor`, `attributedTo`, `url`; `to`/`cc` as arrays (Pleroma breaks on arrays
elsewhere). Reading: every field may be a string, an object or a list (GoToSocial sends scalar `to`, PeerTube
an `icon` list), so readers go through `as_list` / `first_id`.
"""

from __future__ import annotations

import html
import json
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from fedblog.clock import to_text
from fedblog.models import Post
from fedblog.protocol.hashtags import hashtag_name
from fedblog.rendering import excerpt, plain_text_to_html
from fedblog.urls import Urls

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
# Misskey refuses bodies above 64 KiB; stay below with room for the envelope.
MAX_ACTIVITY_BYTES = 60 * 1024
MAX_ATTACHMENTS = 4

# The extension terms Mastodon uses, so peers that do expand JSON-LD read our fields right.
NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "blurhash": "toot:blurhash",
    },
]
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
    },
]


# --- reading -------------------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """None → [], a scalar or object → [it], a list → itself."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a string, an object ({"id": …}) or a Link ({"href": …})."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id", value.get("href"))
        return found if isinstance(found, str) else None
    return None


def first_id(value: Any) -> str | None:
    """The first id in a string, object or list of them."""
    for item in as_list(value):
        found = id_of(item)
        if found:
            return found
    return None


def ids_of(value: Any) -> list[str]:
    return [found for found in (id_of(item) for item in as_list(value)) if found]


def type_of(value: Any) -> str | None:
    """An object's type; the first one when a list (as some peers send)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    return kind if isinstance(kind, str) else None


def is_public(*addresses: Any) -> bool:
    """True if any of the to/cc values (string, list…) addresses the Public collection in any spelling."""
    return any(address in PUBLIC_FORMS for value in addresses for address in ids_of(value))


# --- notes ---------------------------------------------------------------------------------------------


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            if values.get("src"):
                self.images.append((values["src"] or "", values.get("alt") or ""))


def images_in_html(fragment: str) -> list[tuple[str, str]]:
    """(src, alt) of every <img> in an HTML fragment, in order."""
    finder = _ImageFinder()
    finder.feed(fragment)
    finder.close()
    return finder.images


def absolute_url(urls: Urls, value: str) -> str | None:
    """An http(s) URL as is, a site-relative path made absolute; anything else (data:, javascript:) None."""
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        return urls.absolute(value)
    if urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def media_type_of(url: str) -> str | None:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed


@dataclass(frozen=True)
class ImageFacts:
    """What the blog knows of one of its own uploaded images (Mastodon shows the BlurHash while loading)."""

    media_type: str
    width: int
    height: int
    blurhash: str


def image_urls(urls: Urls, body_html: str) -> list[str]:
    """The absolute URLs of a post's images, in order, without repeats."""
    found: list[str] = []
    for src, _alt in images_in_html(body_html):
        url = absolute_url(urls, src)
        if url is not None and url not in found:
            found.append(url)
    return found


def image_attachments(
    urls: Urls, body_html: str, known: Mapping[str, ImageFacts] | None = None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for src, alt in images_in_html(body_html):
        url = absolute_url(urls, src)
        if url is None or any(item["url"] == url for item in found):
            continue
        item: dict[str, Any] = {"type": "Image", "url": url, "name": alt}
        facts = (known or {}).get(url)
        if facts is not None:
            item.update(mediaType=facts.media_type, width=facts.width, height=facts.height, blurhash=facts.blurhash)
            found.append(item)
            continue
        media_type = media_type_of(url)
        if media_type:
            item["mediaType"] = media_type
            if not media_type.startswith("image/"):
                item["type"] = "Document"
        found.append(item)
    return found[:MAX_ATTACHMENTS]


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
    urls: Urls, post: Post, with_context: bool = True, images: Mapping[str, ImageFacts] | None = None
) -> dict[str, Any]:
    """A published post as the Note at its own HTML URL, kept under Misskey's 64 KiB limit; `images` gives the
    size and BlurHash of the blog's own uploads among the post's images."""
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


# --- activities ----------------------------------------------------------------------------------------


def _without_context(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "@context"}


def create_activity(urls: Urls, activity_id: str, note: dict[str, Any]) -> dict[str, Any]:
    obj = _without_context(note)
    return {
        "@context": NOTE_CONTEXT,
        "id": activity_id,
        "type": "Create",
        "actor": urls.actor(),
        "published": obj.get("published"),
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", [urls.followers()]),
        "object": obj,
    }


def update_activity(urls: Urls, activity_id: str, obj: dict[str, Any], published: datetime) -> dict[str, Any]:
    obj = _without_context(obj)
    return {
        "@context": ACTOR_CONTEXT if obj.get("type") == "Person" else NOTE_CONTEXT,
        "id": activity_id,
        "type": "Update",
        "actor": urls.actor(),
        "published": to_text(published),
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", [urls.followers()]),
        "object": obj,
    }


def delete_activity(urls: Urls, activity_id: str, object_id: str, former_type: str = "Note") -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Delete",
        "actor": urls.actor(),
        "to": [PUBLIC],
        "cc": [urls.followers()],
        "object": tombstone(object_id, former_type),
    }


def _follow_answer(kind: str, urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    """Accept/Reject echoing the Follow in full (Mastodon matches it by id or by the embedded Follow)."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": urls.actor(),
        "to": [follow["actor"]] if isinstance(follow.get("actor"), str) else [],
        "object": _without_context(follow),
    }


def accept_follow(urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    return _follow_answer("Accept", urls, activity_id, follow)


def reject_follow(urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    return _follow_answer("Reject", urls, activity_id, follow)


# --- the actor -----------------------------------------------------------------------------------------


def _image(urls: Urls, value: str) -> dict[str, Any] | None:
    url = absolute_url(urls, value) if value else None
    if url is None:
        return None
    image: dict[str, Any] = {"type": "Image", "url": url}
    media_type = media_type_of(url)
    if media_type:
        image["mediaType"] = media_type
    return image


def profile_fields(links: Iterable[str]) -> list[dict[str, str]]:
    """Config lines "Label = https://…" as PropertyValue pairs; the value is an escaped rel=me link."""
    fields = []
    for line in links:
        label, _, url = line.partition("=")
        label, url = label.strip(), url.strip()
        if not label or urlsplit(url).scheme not in ("http", "https"):
            continue
        shown = html.escape(url.split("://", 1)[1].rstrip("/"))
        value = f'<a href="{html.escape(url)}" rel="me nofollow noopener" target="_blank">{shown}</a>'
        fields.append({"type": "PropertyValue", "name": label, "value": value})
    return fields


def actor_document(
    urls: Urls,
    *,
    name: str,
    bio: str,
    avatar: str,
    header_image: str,
    links: Iterable[str],
    public_key_pem: str,
    manually_approves_followers: bool,
    discoverable: bool,
    published: datetime | None,
) -> dict[str, Any]:
    actor: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": urls.actor(),
        "type": "Person",
        "preferredUsername": urls.username,
        "name": name or urls.username,
        "summary": plain_text_to_html(bio) if bio else "",
        "url": urls.profile(),
        "inbox": urls.inbox(),
        "outbox": urls.outbox(),
        "followers": urls.followers(),
        "following": urls.following(),
        "featured": urls.featured(),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {"id": urls.key_id(), "owner": urls.actor(), "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": manually_approves_followers,
        "discoverable": discoverable,
        "indexable": discoverable,
        "attachment": profile_fields(links),
        "tag": [],
    }
    if published is not None:
        actor["published"] = to_text(published)
    for key, value in (("icon", avatar), ("image", header_image)):
        image = _image(urls, value)
        if image:
            actor[key] = image
    return actor


# --- collections ---------------------------------------------------------------------------------------


def ordered_collection(collection_id: str, total: int, first: str | None, last: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        found["first"] = first
    if last:
        found["last"] = last
    return found


def ordered_collection_page(
    page_id: str,
    part_of: str,
    items: list[Any],
    next_page: str | None,
    prev_page: str | None,
    total: int | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if total is not None:
        found["totalItems"] = total
    if next_page:
        found["next"] = next_page
    if prev_page:
        found["prev"] = prev_page
    return found
