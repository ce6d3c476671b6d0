"""Object integrity proofs (fedblog.protocol.integrity): eddsa-jcs-2022 made and checked, Multikeys, base58btc."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.protocol.integrity import (
    ProofError,
    add_proof,
    base58btc,
    derive_ed25519_key,
    from_base58btc,
    jcs,
    multikey,
    proofs_to_check,
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


def test_jcs__numbers_and_key_order_as_rfc_8785_writes_them() -> None:
    # RFC 8785 §3.2.2.3's numbers, and §3.2.3's keys (sorted by UTF-16 code units: the emoji before U+FB33)
    assert jcs([333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]) == (
        b"[333333333.3333333,1e+30,4.5,0.002,1e-27]"
    )
    keys = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001f600": 5, "\u0080": 6, "\u00f6": 7}
    assert list(json.loads(jcs(keys)).values()) == [2, 4, 6, 7, 1, 5, 3]


NOW = datetime(2026, 3, 2, tzinfo=UTC)


def test_proofs_to_check__only_unexpired_eddsa_jcs_2022_ones() -> None:
    key = derive_ed25519_key(SITE_KEY)
    signed = add_proof(ACTIVITY, key, "https://blog.example/actor#ed25519-key", datetime(2026, 3, 1, tzinfo=UTC))
    ours = signed["proof"]
    other_suite = {**ours, "cryptosuite": "eddsa-rdfc-2022"}
    expired = {**ours, "expires": "2026-03-01T12:00:00Z"}
    assert proofs_to_check(ACTIVITY, NOW) == []
    assert proofs_to_check(signed, NOW) == [ours]
    assert proofs_to_check({**signed, "proof": [other_suite, expired]}, NOW) == []
    assert proofs_to_check({**signed, "proof": [other_suite, ours]}, NOW) == [ours]
    for broken in ("a string", [ours, 3], {**ours, "expires": "soon"}):
        with pytest.raises(ProofError):
            proofs_to_check({**signed, "proof": broken}, NOW)


def test_verify_proof__floats_and_a_later_linked_data_signature_do_not_break_it() -> None:
    key = derive_ed25519_key(SITE_KEY)
    located = {**ACTIVITY, "location": {"type": "Place", "latitude": 48.0, "longitude": 2.35}}
    signed = add_proof(located, key, "https://blog.example/actor#ed25519-key", NOW)
    # As a peer writes the same document (1.0 is 48 in JSON), with the legacy signature added after the proof
    received = {**signed, "location": {**signed["location"], "latitude": 48}, "signature": {"type": "RsaSignature2017"}}
    verify_proof(received, key.public_key())
    for missing in ("proofValue", "proofPurpose"):
        proof = {name: value for name, value in signed["proof"].items() if name != missing}
        with pytest.raises(ProofError):
            verify_proof(signed, key.public_key(), proof)
