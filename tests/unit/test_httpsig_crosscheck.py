"""fedblog's draft-cavage signatures checked against an independent implementation: the httpsig library."""

from __future__ import annotations

from datetime import UTC, datetime

import httpsig
import pytest
from cryptography.hazmat.primitives import serialization

from fedblog.protocol.httpsig import SignatureError, body_digest, http_date, sign_request, verify_request
from fedblog.protocol.keys import generate_private_key_pem, load_private_key, public_key_pem

PRIVATE_PEM = generate_private_key_pem()
PRIVATE_KEY = load_private_key(PRIVATE_PEM)
PUBLIC_PEM = public_key_pem(PRIVATE_KEY)
KEY_ID = "https://blog.example/actor#main-key"
BODY = b'{"type":"Create","id":"https://blog.example/activities/create/1"}'


def test_sign_request__post_verifies_with_httpsig_library() -> None:
    # Given a POST signed by fedblog
    headers = sign_request(
        private_key=PRIVATE_KEY, key_id=KEY_ID, method="POST", url="https://remote.example/inbox", body=BODY
    )
    # When httpsig checks it with the public key, requiring the four headers Mastodon requires
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=PUBLIC_PEM.encode(),
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/inbox",
        sign_header="Signature",
    )
    # Then it verifies, and a body edit shows up as a digest mismatch
    assert verifier.verify()
    assert headers["Digest"] == body_digest(BODY)
    assert headers["Digest"] != body_digest(BODY + b" ")


def test_verify_request__accepts_httpsig_library_signature_and_hs2019_label() -> None:
    # Given a POST signed by the httpsig library (rsa-sha256)
    now = datetime.now(UTC)
    headers = {
        "Host": "blog.example",
        "Date": http_date(now),
        "Digest": body_digest(BODY),
        "Content-Type": "application/activity+json",
    }
    secret = PRIVATE_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = httpsig.HeaderSigner(
        key_id=KEY_ID,
        secret=secret,
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest", "content-type"],
        sign_header="Signature",
    )
    signed = signer.sign(dict(headers), host="blog.example", method="POST", path="/inbox")
    # Then fedblog verifies it, also when the algorithm is labelled hs2019 (as GoToSocial sends)
    params = verify_request(
        method="POST", path_qs="/inbox", headers=signed, body=BODY, public_key_pem=PUBLIC_PEM, now=now
    )
    assert params.key_id == KEY_ID
    relabelled = dict(signed, Signature=signed["Signature"].replace('algorithm="rsa-sha256"', 'algorithm="hs2019"'))
    assert (
        verify_request(
            method="POST", path_qs="/inbox", headers=relabelled, body=BODY, public_key_pem=PUBLIC_PEM, now=now
        ).algorithm
        == "hs2019"
    )
    # And a tampered body is refused
    with pytest.raises(SignatureError):
        verify_request(
            method="POST", path_qs="/inbox", headers=signed, body=BODY + b"x", public_key_pem=PUBLIC_PEM, now=now
        )
