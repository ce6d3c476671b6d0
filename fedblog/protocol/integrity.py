"""Object integrity proofs (FEP-8b32), pure: `eddsa-jcs-2022` Data Integrity proofs made and checked with an
Ed25519 key published as a `Multikey` in the actor's `assertionMethod`, as Fedify and Mitra do.

The cryptosuite (W3C Data Integrity EdDSA Cryptosuites, eddsa-jcs-2022): the document without `proof` and the proof
options (with the document's `@context`, without `proofValue`) are each canonicalized with JCS (RFC 8785) and hashed
with SHA-256; the signature is Ed25519 over proof-options hash + document hash, written as multibase base58btc.
JCS here is JSON with sorted keys, no spaces and UTF-8 strings: exact for what the blog signs (strings, integers,
booleans; no floats).

The blog's Ed25519 key is derived from its RSA site key (HKDF-SHA256): nothing new to keep, back up or protect, and
a new site key makes a new Ed25519 key with it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedblog.clock import to_text

CRYPTOSUITE = "eddsa-jcs-2022"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
ED25519_MULTICODEC = b"\xed\x01"
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class ProofError(ValueError):
    """A proof that cannot be checked or does not hold; the message says why."""


def derive_ed25519_key(site_key: rsa.RSAPrivateKey) -> ed25519.Ed25519PrivateKey:
    secret = site_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fedblog FEP-8b32 assertionMethod").derive(
        secret
    )
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def from_base58btc(text: str) -> bytes:
    number = 0
    for char in text:
        index = _ALPHABET.find(char)
        if index < 0:
            raise ProofError("not base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public_key: ed25519.Ed25519PublicKey) -> str:
    """`publicKeyMultibase`: "z" + base58btc(0xed01 + the 32-byte key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58btc(ED25519_MULTICODEC + raw)


def public_key_from_multikey(text: str) -> ed25519.Ed25519PublicKey:
    if not isinstance(text, str) or not text.startswith("z") or len(text) > 100:
        raise ProofError("publicKeyMultibase is not base58btc")
    data = from_base58btc(text[1:])
    if not data.startswith(ED25519_MULTICODEC) or len(data) != 34:
        raise ProofError("not an Ed25519 Multikey")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])


def multikey_document(key_id: str, controller: str, public_key: ed25519.Ed25519PublicKey) -> dict[str, Any]:
    return {"id": key_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": multikey(public_key)}


def jcs(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsecured = {key: item for key, item in document.items() if key != "proof"}
    config = {key: item for key, item in options.items() if key != "proofValue"}
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    return hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def with_data_integrity_context(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the Data Integrity context, which defines `proof` for JSON-LD readers (Fedify)."""
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context] if context is not None else []
    if DATA_INTEGRITY_CONTEXT in contexts:
        return document
    return {**document, "@context": [*contexts, DATA_INTEGRITY_CONTEXT]}


def add_proof(
    document: dict[str, Any], key: ed25519.Ed25519PrivateKey, verification_method: str, created: datetime
) -> dict[str, Any]:
    """The document (with the Data Integrity context) and its `proof`."""
    signed = with_data_integrity_context(document)
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
        "created": to_text(created.replace(microsecond=0)),
    }
    signature = key.sign(_hash_data(signed, options))
    return {**signed, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


def verify_proof(document: dict[str, Any], public_key: ed25519.Ed25519PublicKey) -> None:
    """Raises ProofError unless the document's one eddsa-jcs-2022 proof holds for this key."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no single proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("not an eddsa-jcs-2022 proof")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("the proof's purpose is not assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue is not base58btc")
    try:
        public_key.verify(from_base58btc(value[1:]), _hash_data(document, proof))
    except InvalidSignature:
        raise ProofError("the proof does not match the document") from None
