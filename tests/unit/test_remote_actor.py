"""Reading remote actor and key documents: every shape peers send, and nothing an attacker could slip in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedblog.protocol.remote_actor import (
    InvalidActor,
    actor_from_document,
    claimed_key_owner,
    clean_display_name,
    handle_from_actor,
    has_as2_context,
    pick_public_key,
)

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
