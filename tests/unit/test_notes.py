"""Reading remote Notes into comment fields, and building the Notes of local comments."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedblog.models import (
    Attachment,
    AuthorKind,
    Comment,
    CommentAuthor,
    CommentOrigin,
    CommentStatus,
    Post,
    Visibility,
)
from fedblog.protocol.activities import create_activity
from fedblog.protocol.activitystreams import PUBLIC
from fedblog.protocol.notes import (
    NoteError,
    Recipient,
    attribution_line,
    comment_to_note,
    parse_note,
    post_to_note,
    visibility_of,
)
from fedblog.rendering import render_markdown
from fedblog.urls import Urls

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
FOLLOWERS = "https://mastodon.example/users/alice/followers"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def test_parse_note__reads_the_mastodon_reply_sample() -> None:
    note = parse_note(sample("create-note-reply.json")["object"])
    assert note.id == "https://mastodon.example/users/alice/statuses/113456789012345678"
    assert note.attributed_to == "https://mastodon.example/users/alice"
    assert note.in_reply_to == "https://blog.example/posts/hello-world"
    assert note.language == "fr"
    assert "Merci pour cet article" in note.content_html
    assert note.visibility == Visibility.PUBLIC
    assert note.summary == "" and note.sensitive is False
    assert note.attachments == (
        Attachment(
            url="https://files.mastodon.example/media_attachments/files/113/456/789/012/345/678/original/3f1c2b.jpg",
            media_type="image/jpeg",
            name="Capture d'écran de l'article",
        ),
    )
    assert note.mentions == ("https://blog.example/actor",)
    assert note.url == "https://mastodon.example/@alice/113456789012345678"
    assert note.published == datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def test_parse_note__summary_is_a_content_warning_and_marks_sensitive() -> None:
    note = parse_note(sample("update-note.json")["object"])
    assert note.summary == "spoilers: fin de l'article"
    assert note.sensitive is True
    assert note.updated == datetime(2025, 3, 14, 9, 30, 13, tzinfo=UTC)


def test_parse_note__content_map_only_gives_content_and_language() -> None:
    obj = {"id": "https://m.example/n/1", "type": "Note", "contentMap": {"de": "<p>Hallo</p>"}}
    note = parse_note(obj)
    assert note.content_html == "<p>Hallo</p>" and note.language == "de"


@pytest.mark.parametrize(
    ("in_reply_to", "expected"),
    [
        ("https://b.example/posts/x", "https://b.example/posts/x"),
        ({"id": "https://b.example/posts/x", "type": "Note"}, "https://b.example/posts/x"),
        (["https://b.example/posts/x"], "https://b.example/posts/x"),
        (None, None),
    ],
)
def test_parse_note__in_reply_to_as_string_object_or_list(in_reply_to: object, expected: str | None) -> None:
    obj = {"id": "https://m.example/n/1", "type": "Note", "content": "x", "inReplyTo": in_reply_to}
    assert parse_note(obj).in_reply_to == expected


@pytest.mark.parametrize(
    ("to", "cc", "visibility"),
    [
        ([PUBLIC], [FOLLOWERS], Visibility.PUBLIC),
        (["as:Public"], [], Visibility.PUBLIC),
        ("Public", [], Visibility.PUBLIC),
        ([FOLLOWERS], [PUBLIC], Visibility.UNLISTED),
        ([FOLLOWERS], ["https://blog.example/actor"], Visibility.FOLLOWERS),
        (["https://blog.example/actor"], [], Visibility.DIRECT),
    ],
)
def test_visibility_of__follows_mastodon(to: object, cc: object, visibility: Visibility) -> None:
    assert visibility_of({"to": to, "cc": cc}) == visibility


def test_parse_note__keeps_at_most_four_http_attachments_with_plain_alt_text() -> None:
    attachments = [
        {"type": "Document", "url": f"https://f.example/{i}.png", "mediaType": "image/png"} for i in range(6)
    ]
    attachments.insert(0, {"type": "Document", "url": "javascript:alert(1)", "mediaType": "image/png"})
    attachments.insert(1, {"type": "Document", "url": "https://f.example/a.png", "name": "<b>alt</b>\u202e"})
    note = parse_note({"id": "https://m.example/n/1", "type": "Note", "content": "x", "attachment": attachments})
    assert [a.url for a in note.attachments] == [
        "https://f.example/a.png",
        "https://f.example/0.png",
        "https://f.example/1.png",
        "https://f.example/2.png",
    ]
    assert note.attachments[0].name == "alt"


def test_parse_note__sanitizes_content_and_drops_a_foreign_url() -> None:
    obj = {
        "id": "https://m.example/n/1",
        "type": "Note",
        "content": '<p>hi<script>alert(1)</script><a href="javascript:x">l</a></p>',
        "url": "https://elsewhere.example/phish",
    }
    note = parse_note(obj)
    assert "script" not in note.content_html and "javascript" not in note.content_html
    assert note.url is None


@pytest.mark.parametrize(
    "obj",
    [
        "https://m.example/n/1",
        {"id": "https://m.example/n/1", "type": "Person"},
        {"type": "Note", "content": "no id"},
        {"id": "javascript:alert(1)", "type": "Note"},
    ],
)
def test_parse_note__refuses_what_is_not_a_note(obj: object) -> None:
    with pytest.raises(NoteError):
        parse_note(obj)


def _comment(origin: CommentOrigin, name: str = "Vera <Visitor>") -> Comment:
    author = CommentAuthor(id=1, kind=AuthorKind.VISITOR, name=name)
    return Comment(
        id=7,
        post_id=1,
        parent_id=3,
        author=author,
        origin=origin,
        status=CommentStatus.APPROVED,
        visibility=Visibility.PUBLIC,
        content_html="<p>Hello there</p>",
        summary="",
        sensitive=False,
        language="en",
        attachments=(),
        remote_id=None,
        remote_url=None,
        created_at=datetime(2026, 1, 2, tzinfo=UTC),
        updated_at=None,
        approved_at=datetime(2026, 1, 3, tzinfo=UTC),
        post_slug="hello",
    )


URLS = Urls("https://blog.example", "author")
ALICE = Recipient("https://m.example/users/alice", "@alice@m.example", "https://m.example/@alice")


def test_comment_to_note__author_reply_is_public_mentions_and_addresses_the_remote_author() -> None:
    note = comment_to_note(
        URLS, _comment(CommentOrigin.AUTHOR), in_reply_to="https://m.example/n/1", recipients=[ALICE]
    )
    assert note["id"] == "https://blog.example/comments/7"
    assert note["attributedTo"] == "https://blog.example/actor"
    assert note["inReplyTo"] == "https://m.example/n/1"
    assert note["to"] == [PUBLIC, ALICE.actor_id]
    assert note["cc"] == ["https://blog.example/actor/followers"]
    assert note["tag"] == [{"type": "Mention", "href": ALICE.actor_id, "name": "@alice@m.example"}]
    mention = '<p><span class="h-card"><a href="https://m.example/@alice" class="u-url mention">'
    assert note["content"].startswith(mention)
    assert note["content"].endswith("<p>Hello there</p>")
    assert note["url"] == "https://blog.example/posts/hello#comment-7"
    assert note["contentMap"] == {"en": note["content"]}


def test_comment_to_note__visitor_comment_names_the_visitor_and_is_only_for_the_remote_author() -> None:
    line = attribution_line("%(name)s (visitor, via the blog's comment form) wrote:", "Vera <Visitor>")
    note = comment_to_note(
        URLS, _comment(CommentOrigin.WEB), in_reply_to="https://m.example/n/1", recipients=[ALICE], attribution=line
    )
    assert note["to"] == [ALICE.actor_id]
    assert note["cc"] == [PUBLIC]
    assert "<strong>Vera &lt;Visitor&gt;</strong> (visitor, via the blog&#x27;s comment form) wrote:" in note["content"]
    assert note["content"].endswith("<p>Hello there</p>")


# --- posts as Notes ------------------------------------------------------------------------------------

BLOG_URLS = Urls("https://blog.example", "blog")
POST_PUBLISHED = datetime(2026, 2, 21, 10, 30, tzinfo=UTC)


def make_post(body: str = "Hello **world**.", **changes: object) -> Post:
    values: dict[str, object] = {
        "id": 1,
        "slug": "hello-world",
        "title": "Hello <world>",
        "body_markdown": body,
        "body_html": render_markdown(body),
        "summary": "",
        "language": "fr",
        "draft": False,
        "published_at": POST_PUBLISHED,
        "updated_at": None,
        "tags": ("python", "fediverse"),
    }
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


def test_post_to_note__fields_peers_read() -> None:
    note = post_to_note(BLOG_URLS, make_post())
    assert note["id"] == "https://blog.example/posts/hello-world"
    assert note["url"] == note["id"]
    assert note["type"] == "Note"
    assert note["attributedTo"] == "https://blog.example/actor"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == ["https://blog.example/actor/followers"]
    assert note["published"] == "2026-02-21T10:30:00Z"
    assert "updated" not in note
    # The title links to the page (escaped), then the body follows
    assert note["content"].startswith(
        '<p><strong><a href="https://blog.example/posts/hello-world">Hello &lt;world&gt;</a></strong></p><p>Hello '
    )
    assert "<strong>world</strong>" in note["content"]
    assert note["contentMap"] == {"fr": note["content"]}
    assert note["summary"] is None and note["sensitive"] is False
    assert {"type": "Hashtag", "href": "https://blog.example/tags/python", "name": "#python"} in note["tag"]
    assert note["replies"]["id"] == "https://blog.example/posts/hello-world/replies"
    assert "https://www.w3.org/ns/activitystreams" in note["@context"]


def test_post_to_note__summary_is_a_content_warning_and_updated_after_edit() -> None:
    edited = datetime(2026, 2, 22, tzinfo=UTC)
    note = post_to_note(BLOG_URLS, make_post(summary="spoilers", updated_at=edited))
    assert note["summary"] == "spoilers"
    assert note["sensitive"] is True
    assert note["updated"] == "2026-02-22T00:00:00Z"


def test_post_to_note__images_become_attachments_with_alt_text() -> None:
    body = '![A cat on a mat](/static/cat.png)\n\n![](https://img.example/dog.jpg)\n\n<img src="javascript:x" alt="no">'
    note = post_to_note(BLOG_URLS, make_post(body=body))
    assert note["attachment"] == [
        {
            "type": "Image",
            "url": "https://blog.example/static/cat.png",
            "name": "A cat on a mat",
            "mediaType": "image/png",
        },
        {"type": "Image", "url": "https://img.example/dog.jpg", "name": "", "mediaType": "image/jpeg"},
    ]


def test_post_to_note__stays_under_64_kib() -> None:
    huge = "\n\n".join("A paragraph of text that goes on. " * 20 for _ in range(400))
    note = post_to_note(BLOG_URLS, make_post(body=huge))
    activity = create_activity(BLOG_URLS, "https://blog.example/activities/create/1", note)
    assert len(json.dumps(activity).encode()) < 64 * 1024
    assert "https://blog.example/posts/hello-world" in note["content"]
