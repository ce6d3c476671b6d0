"""fedblog's own RFC 9421 signatures (sign_request_rfc9421): what a verifier following Mastodon 4.5's rules takes,
and what it refuses once the request is changed on the way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.protocol.httpsig import SignatureError, sign_request_rfc9421, verify_request

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY_ID = "https://blog.example/actor#main-key"
BODY = b'{"type":"Create","id":"https://blog.example/activities/create/1"}'


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public.decode()


def test_sign_rfc9421__post_covers_method_target_authority_type_and_digest(key: rsa.RSAPrivateKey) -> None:
    headers = sign_request_rfc9421(
        private_key=key, key_id=KEY_ID, method="POST", url="https://social.example:8443/inbox", body=BODY,
        headers={"Content-Type": "application/activity+json"}, now=NOW,
    )  # fmt: skip
    assert headers["Host"] == "social.example:8443" and "Signature" in headers and "Digest" not in headers
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-type" "content-digest");'
        f'created={int(NOW.timestamp())};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    params = verify_request(
        method="POST", path_qs="/inbox", headers=headers, body=BODY, public_key_pem=pem(key), now=NOW
    )
    assert params.key_id == KEY_ID
    with pytest.raises(SignatureError, match="Content-Digest"):
        verify_request(
            method="POST", path_qs="/inbox", headers=headers, body=BODY + b" ", public_key_pem=pem(key), now=NOW
        )
    with pytest.raises(SignatureError):
        verify_request(method="POST", path_qs="/other", headers=headers, body=BODY, public_key_pem=pem(key), now=NOW)


def test_sign_rfc9421__get_keeps_the_query_in_its_target(key: rsa.RSAPrivateKey) -> None:
    headers = sign_request_rfc9421(
        private_key=key, key_id=KEY_ID, method="GET", url="http://127.0.0.1:9999/outbox?page=2",
        headers={"Accept": "application/activity+json"}, now=NOW,
    )  # fmt: skip
    assert "Content-Digest" not in headers
    verify_request(method="GET", path_qs="/outbox?page=2", headers=headers, body=None, public_key_pem=pem(key), now=NOW)
    with pytest.raises(SignatureError):
        verify_request(
            method="GET", path_qs="/outbox?page=3", headers=headers, body=None, public_key_pem=pem(key), now=NOW
        )
