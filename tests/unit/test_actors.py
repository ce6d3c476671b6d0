"""Actors: the blog's own document as peers need it, and reading remote actor and key documents (every shape peers
send, and nothing an attacker could slip in)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedblog.protocol.actors import (
    InvalidActor,
    actor_document,
    actor_from_document,
    claimed_key_owner,
    clean_display_name,
    handle_from_actor,
    has_as2_context,
    pick_public_key,
)
from fedblog.urls import Urls

SAMPLE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "actor-mastodon-person.json").read_text()
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
ALICE = "https://mastodon.example/users/alice"


def test_actor_from_document__reads_the_mastodon_sample():
    actor = actor_from_document(SAMPLE, key_id=ALICE + "#main-key", fetched_at=NOW)

    assert (actor.id, actor.type, actor.handle, actor.name) == (
        ALICE,
        "Person",
        "@alice@mastodon.example",
        "Alice :blobcat:",
    )
    assert (actor.inbox, actor.shared_inbox) == (ALICE + "/inbox", "https://mastodon.example/inbox")
    assert actor.icon_url.endswith("/avatar.png")
    assert actor.url == "https://mastodon.example/@alice"
    assert actor.public_key_id == ALICE + "#main-key"
    assert actor.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_actor_from_document__unknown_key_id_is_refused():
    with pytest.raises(InvalidActor, match="does not list that key"):
        actor_from_document(SAMPLE, key_id=ALICE + "#other-key", fetched_at=NOW)


def test_actor_from_document__a_key_claimed_on_another_host_is_not_recorded():
    # An actor fetched as a reply's author (no key id asked for) claiming someone else's key id
    claimer = {**SAMPLE, "publicKey": {**SAMPLE["publicKey"], "id": "https://victim.example/users/v#main-key"}}
    assert actor_from_document(claimer, key_id=None, fetched_at=NOW).public_key_id is None
    # Its own key, on its own host, is kept
    assert actor_from_document(SAMPLE, key_id=None, fetched_at=NOW).public_key_id == ALICE + "#main-key"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"type": "Note"}, "not an actor"), ({"inbox": "javascript:alert(1)"}, "inbox"), ({"id": None}, "no id")],
)
def test_actor_from_document__unusable_documents_are_refused(change, reason):
    with pytest.raises(InvalidActor, match=reason):
        actor_from_document({**SAMPLE, **change}, key_id=None, fetched_at=NOW)


def test_actor_from_document__scalar_and_list_forms_are_read():
    doc = {
        **SAMPLE,
        "type": ["Person"],
        "icon": ["not a url", {"url": {"href": "https://cdn.example/i.png"}}],
        "url": [{"type": "Link", "href": "https://mastodon.example/@alice"}],
        "endpoints": "not an object",
    }

    actor = actor_from_document(doc, key_id=None, fetched_at=NOW)

    assert (actor.type, actor.icon_url, actor.url, actor.shared_inbox) == (
        "Person",
        "https://cdn.example/i.png",
        "https://mastodon.example/@alice",
        None,
    )


def test_clean_display_name__strips_html_controls_and_bidi_and_caps_length():
    assert clean_display_name("<script>x</script><b>Bob</b>\u202e\u2066 &lt;3\x1b[31m") == "xBob <3[31m"
    assert clean_display_name("a" * 300) == "a" * 100
    assert clean_display_name(["list"]) == ""


@pytest.mark.parametrize(
    ("doc", "handle"),
    [
        ({"id": ALICE, "preferredUsername": "alice"}, "@alice@mastodon.example"),
        ({"id": "https://xn--bcher-kva.example/u/b", "preferredUsername": "b"}, "@b@xn--bcher-kva.example"),
        ({"id": "http://127.0.0.1:8080/u/b", "preferredUsername": "b"}, "@b@127.0.0.1:8080"),
        ({"id": ALICE, "preferredUsername": "al ice"}, None),
        ({"id": ALICE, "preferredUsername": "a@evil.example"}, None),
        ({"id": ALICE}, None),
    ],
)
def test_handle_from_actor__builds_user_at_host(doc, handle):
    assert handle_from_actor(doc) == handle


def test_pick_public_key__picks_by_id_from_a_list_and_checks_the_owner():
    doc = {
        "id": ALICE,
        "publicKey": [
            {"id": ALICE + "#ed", "owner": ALICE, "publicKeyPem": "A"},
            {"id": ALICE + "#main-key", "owner": ALICE, "publicKeyPem": "B"},
            {"id": ALICE + "#stolen", "owner": "https://other.example/u", "publicKeyPem": "C"},
        ],
    }

    assert pick_public_key(doc, ALICE + "#main-key")["publicKeyPem"] == "B"
    assert pick_public_key(doc, ALICE + "#stolen") is None
    assert pick_public_key(doc, None)["publicKeyPem"] == "A"


def test_claimed_key_owner__reads_actor_bare_key_and_stub_shapes():
    key = "https://gts.example/users/c/main-key"
    stub = {"id": "https://gts.example/users/c", "publicKey": {"id": key, "owner": "https://gts.example/users/c"}}
    stub["publicKey"]["publicKeyPem"] = "P"
    bare = {"id": key, "owner": "https://gts.example/users/c", "publicKeyPem": "P"}

    assert claimed_key_owner(SAMPLE, ALICE + "#main-key") == ALICE
    assert claimed_key_owner(stub, key) == "https://gts.example/users/c"
    assert claimed_key_owner(bare, key) == "https://gts.example/users/c"
    assert claimed_key_owner(SAMPLE, ALICE + "#other") is None


def test_has_as2_context__string_or_list():
    assert has_as2_context(SAMPLE)
    assert has_as2_context({"@context": "https://www.w3.org/ns/activitystreams"})
    assert not has_as2_context({"@context": "https://schema.org"})
    assert not has_as2_context({})


# --- the blog's own actor ------------------------------------------------------------------------------

BLOG_URLS = Urls("https://blog.example", "blog")


def test_actor_document__has_what_mastodon_needs() -> None:
    actor = actor_document(
        BLOG_URLS,
        name="Blog <author>",
        bio="I write.\n\nAbout <things>.",
        avatar="/static/me.png",
        header_image="",
        links=("Site = https://me.example/", "Bad = javascript:alert(1)"),
        public_key_pem="-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n",
        manually_approves_followers=True,
        discoverable=True,
        published=datetime(2026, 2, 21, 10, 30, tzinfo=UTC),
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
