"""Object integrity proofs (fedblog.protocol.integrity): eddsa-jcs-2022 made and checked, Multikeys, base58btc."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.protocol.integrity import (
    ProofError,
    add_proof,
    base58btc,
    derive_ed25519_key,
    from_base58btc,
    multikey,
    public_key_from_multikey,
    verify_proof,
)

SITE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ACTIVITY = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "https://blog.example/activities/create/1",
    "type": "Create",
    "actor": "https://blog.example/actor",
    "object": {"id": "https://blog.example/posts/x", "type": "Note", "content": "<p>Déjà vu</p>"},
}


def test_base58btc__known_vector_and_leading_zeros() -> None:
    assert base58btc(b"hello world") == "StV1DL6CwTryKyV"
    assert from_base58btc(base58btc(b"\0\0ab")) == b"\0\0ab"


def test_derived_key__stable_for_a_site_key_and_published_as_an_ed25519_multikey() -> None:
    key = derive_ed25519_key(SITE_KEY)
    assert key.public_key().public_bytes_raw() == derive_ed25519_key(SITE_KEY).public_key().public_bytes_raw()
    published = multikey(key.public_key())
    assert published.startswith("z6Mk")  # the multicodec prefix of every Ed25519 Multikey
    assert public_key_from_multikey(published).public_bytes_raw() == key.public_key().public_bytes_raw()


def test_add_proof__verifies_and_any_change_breaks_it() -> None:
    key = derive_ed25519_key(SITE_KEY)
    signed = add_proof(ACTIVITY, key, "https://blog.example/actor#ed25519-key", datetime(2026, 3, 1, tzinfo=UTC))
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022" and signed["proof"]["created"] == "2026-03-01T00:00:00Z"
    assert "https://w3id.org/security/data-integrity/v1" in signed["@context"]
    verify_proof(signed, key.public_key())
    altered = {**signed, "object": {**signed["object"], "content": "<p>Jamais vu</p>"}}
    with pytest.raises(ProofError):
        verify_proof(altered, key.public_key())
    with pytest.raises(ProofError):
        verify_proof(signed, derive_ed25519_key(rsa.generate_private_key(65537, 2048)).public_key())
