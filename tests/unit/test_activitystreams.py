"""Pure ActivityStreams builders and readers: what peers receive from fedblog, and how their forms are read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fedblog.models import Post
from fedblog.protocol import activitystreams as as2
from fedblog.rendering import render_markdown
from fedblog.urls import Urls

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
URLS = Urls("https://blog.example", "blog")
PUBLISHED = datetime(2026, 2, 21, 10, 30, tzinfo=UTC)


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
        "published_at": PUBLISHED,
        "updated_at": None,
        "tags": ("python", "fediverse"),
    }
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


def test_as_list__accepts_every_form() -> None:
    assert as2.as_list(None) == []
    assert as2.as_list("a") == ["a"]
    assert as2.as_list({"id": "a"}) == [{"id": "a"}]
    assert as2.as_list(["a", "b"]) == ["a", "b"]


def test_first_id__string_object_link_and_list() -> None:
    assert as2.first_id("https://a/1") == "https://a/1"
    assert as2.first_id({"id": "https://a/2", "type": "Note"}) == "https://a/2"
    assert as2.first_id({"type": "Link", "href": "https://a/3"}) == "https://a/3"
    assert as2.first_id([{"name": "no id"}, "https://a/4"]) == "https://a/4"
    assert as2.first_id(None) is None
    assert as2.first_id(42) is None


def test_is_public__every_spelling_and_shape() -> None:
    assert as2.is_public("https://www.w3.org/ns/activitystreams#Public")
    assert as2.is_public(["https://x/followers"], ["as:Public"])
    assert as2.is_public(None, "Public")
    assert not as2.is_public(["https://x/followers"], None)


def test_post_to_note__fields_peers_read() -> None:
    note = as2.post_to_note(URLS, make_post())
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
    note = as2.post_to_note(URLS, make_post(summary="spoilers", updated_at=edited))
    assert note["summary"] == "spoilers"
    assert note["sensitive"] is True
    assert note["updated"] == "2026-02-22T00:00:00Z"


def test_post_to_note__images_become_attachments_with_alt_text() -> None:
    body = '![A cat on a mat](/static/cat.png)\n\n![](https://img.example/dog.jpg)\n\n<img src="javascript:x" alt="no">'
    note = as2.post_to_note(URLS, make_post(body=body))
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
    note = as2.post_to_note(URLS, make_post(body=huge))
    activity = as2.create_activity(URLS, "https://blog.example/activities/create/1", note)
    assert len(json.dumps(activity).encode()) < 64 * 1024
    assert "https://blog.example/posts/hello-world" in note["content"]


def test_create_activity__wraps_the_note_from_the_actor() -> None:
    note = as2.post_to_note(URLS, make_post())
    create = as2.create_activity(URLS, "https://blog.example/activities/create/abc", note)
    assert create["type"] == "Create"
    assert create["id"] == "https://blog.example/activities/create/abc"
    assert create["actor"] == "https://blog.example/actor"
    assert create["object"]["id"] == note["id"]
    assert "@context" not in create["object"]
    assert create["to"] == note["to"] and create["cc"] == note["cc"]


def test_delete_activity__carries_a_tombstone() -> None:
    delete = as2.delete_activity(URLS, "https://blog.example/activities/delete/1", "https://blog.example/posts/x")
    assert delete["type"] == "Delete"
    assert delete["object"]["type"] == "Tombstone"
    assert delete["object"]["id"] == "https://blog.example/posts/x"
    assert as2.is_public(delete["to"])


def test_accept_follow__echoes_the_follow_like_the_sample() -> None:
    follow = json.loads((SAMPLES / "follow.json").read_text())
    expected = json.loads((SAMPLES / "accept-follow-expected.json").read_text())
    accept = as2.accept_follow(URLS, "https://blog.example/actor#accepts/follows/17", follow)
    for key in ("@context", "id", "type", "actor", "object"):
        assert accept[key] == expected[key], key
    reject = as2.reject_follow(URLS, "https://blog.example/activities/reject/1", follow)
    assert reject["type"] == "Reject" and reject["object"] == expected["object"]


def test_actor_document__has_what_mastodon_needs() -> None:
    actor = as2.actor_document(
        URLS,
        name="Blog <author>",
        bio="I write.\n\nAbout <things>.",
        avatar="/static/me.png",
        header_image="",
        links=("Site = https://me.example/", "Bad = javascript:alert(1)"),
        public_key_pem="-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n",
        manually_approves_followers=True,
        discoverable=True,
        published=PUBLISHED,
    )
    assert actor["id"] == "https://blog.example/actor"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "blog"
    assert actor["summary"] == "<p>I write.</p><p>About &lt;things&gt;.</p>"
    assert actor["publicKey"]["id"] == "https://blog.example/actor#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["endpoints"] == {"sharedInbox": "https://blog.example/inbox"}
    assert actor["manuallyApprovesFollowers"] is True
    assert actor["icon"] == {"type": "Image", "url": "https://blog.example/static/me.png", "mediaType": "image/png"}
    assert "image" not in actor
    assert actor["attachment"] == [
        {
            "type": "PropertyValue",
            "name": "Site",
            "value": '<a href="https://me.example/" rel="me nofollow noopener" target="_blank">me.example</a>',
        }
    ]
    assert actor["@context"][0] == "https://www.w3.org/ns/activitystreams"
