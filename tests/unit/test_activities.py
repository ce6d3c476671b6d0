"""The activities fedblog sends: what peers receive."""

from __future__ import annotations

import json
from pathlib import Path

from fedblog.protocol.activities import accept_follow, create_activity, delete_activity, reject_follow
from fedblog.protocol.activitystreams import PUBLIC, is_public
from fedblog.protocol.notes import NOTE_CONTEXT
from fedblog.urls import Urls

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
URLS = Urls("https://blog.example", "blog")
NOTE = {
    "@context": NOTE_CONTEXT,
    "id": "https://blog.example/posts/hello-world",
    "type": "Note",
    "attributedTo": "https://blog.example/actor",
    "published": "2026-02-21T10:30:00Z",
    "to": [PUBLIC],
    "cc": ["https://blog.example/actor/followers"],
    "content": "<p>Hello</p>",
}


def test_create_activity__wraps_the_note_from_the_actor() -> None:
    note = NOTE
    create = create_activity(URLS, "https://blog.example/activities/create/abc", note)
    assert create["type"] == "Create"
    assert create["id"] == "https://blog.example/activities/create/abc"
    assert create["actor"] == "https://blog.example/actor"
    assert create["object"]["id"] == note["id"]
    assert "@context" not in create["object"]
    assert create["to"] == note["to"] and create["cc"] == note["cc"]


def test_delete_activity__carries_a_tombstone() -> None:
    delete = delete_activity(URLS, "https://blog.example/activities/delete/1", "https://blog.example/posts/x")
    assert delete["type"] == "Delete"
    assert delete["object"]["type"] == "Tombstone"
    assert delete["object"]["id"] == "https://blog.example/posts/x"
    assert is_public(delete["to"])


def test_accept_follow__echoes_the_follow_like_the_sample() -> None:
    follow = json.loads((SAMPLES / "follow.json").read_text())
    expected = json.loads((SAMPLES / "accept-follow-expected.json").read_text())
    accept = accept_follow(URLS, "https://blog.example/actor#accepts/follows/17", follow)
    for key in ("@context", "id", "type", "actor", "object"):
        assert accept[key] == expected[key], key
    reject = reject_follow(URLS, "https://blog.example/activities/reject/1", follow)
    assert reject["type"] == "Reject" and reject["object"] == expected["object"]
