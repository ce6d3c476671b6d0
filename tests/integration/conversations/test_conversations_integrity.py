"""Object integrity proofs (FEP-8b32) on activities sent by their own actor: a proof that holds is accepted as
before; one that is present but does not hold (altered after signing, made with another key, a key that is not the
actor's) refuses the activity with 401 and nothing is recorded; a proof of another cryptosuite is ignored, as the
FEP says, and the activity rests on its HTTP signature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedblog.models import Post
from fedblog.protocol.integrity import add_proof, multikey_document
from fedblog.store.inbox import InboxStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish

ALICE_KEY = Ed25519PrivateKey.generate()
BOB_KEY = Ed25519PrivateKey.generate()


def publish_assertion_keys(remote: RemoteInstance) -> None:
    """Alice and Bob each list an Ed25519 Multikey in their actor's assertionMethod."""
    for name, key in (("alice", ALICE_KEY), ("bob", BOB_KEY)):
        key_id = f"{remote.actor_id(name)}#ed25519-key"
        remote.profiles[name] = {
            "assertionMethod": [multikey_document(key_id, remote.actor_id(name), key.public_key())]
        }


def reply(remote: RemoteInstance, site: LiveSite, post: Post, text: str) -> dict[str, Any]:
    """Alice's Create of a reply to the post."""
    return remote.create("alice", remote.note("alice", site.ctx.urls.note(post.slug), f"<p>{text}</p>"))


def proved(activity: dict[str, Any], key: Ed25519PrivateKey, key_id: str) -> dict[str, Any]:
    return add_proof(activity, key, key_id, datetime.now(UTC))


async def test_direct_create__with_a_proof_that_holds_is_accepted(site: LiveSite, remote: RemoteInstance) -> None:
    publish_assertion_keys(remote)
    post = await publish(site)
    activity = proved(
        reply(remote, site, post, "Signed and sealed"), ALICE_KEY, f"{remote.actor_id('alice')}#ed25519-key"
    )

    assert await remote.send("alice", activity) == 202

    assert "Signed and sealed" in await page(site, post)
    assert await InboxStore(site.ctx.db).get(activity["id"]) is not None


def altered_after_signing(remote: RemoteInstance, activity: dict[str, Any]) -> dict[str, Any]:
    signed = proved(activity, ALICE_KEY, f"{remote.actor_id('alice')}#ed25519-key")
    signed["object"] = {**signed["object"], "content": signed["object"]["content"].replace("</p>", " (altered)</p>")}
    return signed


def made_with_another_key(remote: RemoteInstance, activity: dict[str, Any]) -> dict[str, Any]:
    return proved(activity, Ed25519PrivateKey.generate(), f"{remote.actor_id('alice')}#ed25519-key")


def made_with_bobs_key(remote: RemoteInstance, activity: dict[str, Any]) -> dict[str, Any]:
    """A proof that holds, but with Bob's key: it vouches for nothing Alice sent."""
    return proved(activity, BOB_KEY, f"{remote.actor_id('bob')}#ed25519-key")


def made_with_a_key_on_another_origin(remote: RemoteInstance, activity: dict[str, Any]) -> dict[str, Any]:
    return proved(activity, ALICE_KEY, "https://keys.example/alice#ed25519-key")


def without_proof_value(remote: RemoteInstance, activity: dict[str, Any]) -> dict[str, Any]:
    signed = proved(activity, ALICE_KEY, f"{remote.actor_id('alice')}#ed25519-key")
    del signed["proof"]["proofValue"]
    return signed


@pytest.mark.parametrize(
    "breaking",
    [
        altered_after_signing,
        made_with_another_key,
        made_with_bobs_key,
        made_with_a_key_on_another_origin,
        without_proof_value,
    ],
)
async def test_direct_create__with_a_proof_that_does_not_hold_is_refused_and_not_recorded(
    site: LiveSite, remote: RemoteInstance, breaking: Any
) -> None:
    # Given a direct Create, correctly HTTP-signed by Alice, whose integrity proof does not hold
    publish_assertion_keys(remote)
    post = await publish(site)
    activity = breaking(remote, reply(remote, site, post, "Not what was proved"))

    # When Alice's server sends it, then it is refused as unauthenticated
    assert await remote.send("alice", activity) == 401

    # And nothing of it is recorded or shown
    assert await InboxStore(site.ctx.db).get(activity["id"]) is None
    assert "Not what was proved" not in await page(site, post)


async def test_direct_create__with_a_proof_of_another_cryptosuite_rests_on_its_http_signature(
    site: LiveSite, remote: RemoteInstance
) -> None:
    publish_assertion_keys(remote)
    post = await publish(site)
    activity = proved(reply(remote, site, post, "Another suite"), ALICE_KEY, f"{remote.actor_id('alice')}#ed25519-key")
    activity["proof"] = {**activity["proof"], "cryptosuite": "eddsa-rdfc-2022", "proofValue": "zNotChecked"}

    assert await remote.send("alice", activity) == 202

    assert "Another suite" in await page(site, post)
