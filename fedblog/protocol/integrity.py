"""Object integrity proofs (FEP-8b32), pure: `eddsa-jcs-2022` Data Integrity proofs made and checked with an
Ed25519 key published as a `Multikey` in the actor's `assertionMethod`, as Fedify and Mitra do.

The cryptosuite (W3C Data Integrity EdDSA Cryptosuites, eddsa-jcs-2022): the document without `proof` and the proof
options (with the document's `@context`, without `proofValue`) are each canonicalized with JCS (RFC 8785) and hashed
with SHA-256; the signature is Ed25519 over proof-options hash + document hash, written as multibase base58btc.
JCS: JSON without spaces in UTF-8, keys sorted by their UTF-16 code units, numbers written as ECMAScript writes
them (1.0 as 1, 1e21 as 1e+21), so that a remote's proof over a document with floats still holds here.

The blog's Ed25519 key is derived from its RSA site key (HKDF-SHA256): nothing new to keep, back up or protect, and
a new site key makes a new Ed25519 key with it.

Which proofs are checked (FEP-8b32, "Proof verification"): every `DataIntegrityProof` of the eddsa-jcs-2022
cryptosuite that has not expired. A proof of another type or cryptosuite, or an expired one, is ignored, as the FEP
says: the activity then rests on its other authentication (the HTTP signature). A linked data `signature` is added
after the proof (FEP-8b32, "Backward compatibility"), so it is left out of what the proof covers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedblog.clock import from_text, to_text

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
    """RFC 8785 canonical JSON."""
    return _jcs_text(value).encode("utf-8")


def _jcs_text(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(json.dumps(key, ensure_ascii=False) + ":" + _jcs_text(item) for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_jcs_text(item) for item in value) + "]"
    if isinstance(value, float):
        return _ecmascript_number(value)
    return json.dumps(value, ensure_ascii=False)


def _ecmascript_number(number: float) -> str:
    """Number.prototype.toString of a finite double (RFC 8785 §3.2.2.3), from Python's shortest round-trip digits."""
    if number != number or number in (float("inf"), float("-inf")):
        raise ProofError("JSON has no NaN or Infinity")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    _, shortest, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, shortest))
    # Where the decimal point falls after the first significant digit (ECMAScript's n).
    point = len(digits) + int(exponent)
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    written = digits[0] + ("." + digits[1:] if count > 1 else "")
    return sign + written + "e" + ("+" if point - 1 >= 0 else "-") + str(abs(point - 1))


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsecured = {key: item for key, item in document.items() if key not in ("proof", "signature")}
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


def proofs_to_check(document: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The document's eddsa-jcs-2022 proofs that have not expired; [] when it has none (or only ones to ignore).
    Raises ProofError for a `proof` that is not an object (or a list of objects), or an unreadable `expires`."""
    if "proof" not in document:
        return []
    found = document["proof"]
    to_check = []
    for proof in found if isinstance(found, list) else [found]:
        if not isinstance(proof, dict):
            raise ProofError("a proof is not an object")
        if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
            continue
        if "expires" in proof:
            try:
                expires = from_text(proof["expires"]) if isinstance(proof["expires"], str) else None
            except ValueError:
                expires = None
            if expires is None:
                raise ProofError("the proof's expires is not a date")
            if expires <= now:
                continue
        to_check.append(proof)
    return to_check


def verify_proof(
    document: dict[str, Any], public_key: ed25519.Ed25519PublicKey, proof: dict[str, Any] | None = None
) -> None:
    """Raises ProofError unless this eddsa-jcs-2022 proof of the document (by default its one `proof`) holds for
    this key."""
    if proof is None:
        proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no single proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("not an eddsa-jcs-2022 proof")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("the proof's purpose is not assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 200:
        raise ProofError("proofValue is not base58btc")
    try:
        public_key.verify(from_base58btc(value[1:]), _hash_data(document, proof))
    except InvalidSignature:
        raise ProofError("the proof does not match the document") from None
