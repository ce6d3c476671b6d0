"""FEP-8fcf's digest and header (fedblog.protocol.followers_sync)."""

from __future__ import annotations

import hashlib

from fedblog.protocol.followers_sync import followers_digest, synchronization_header

A, B = "https://social.example/users/a", "https://social.example/users/b"


def test_followers_digest__xor_of_sha256_in_any_order() -> None:
    assert followers_digest([]) == "0" * 64
    assert followers_digest([A]) == hashlib.sha256(A.encode()).hexdigest()
    assert followers_digest([A, B]) == followers_digest([B, A]) != followers_digest([A])
    assert followers_digest([A, B, B]) == followers_digest([A])  # XOR: a pair cancels out


def test_synchronization_header__names_collection_url_and_digest() -> None:
    header = synchronization_header("https://blog.example/actor/followers", "https://blog.example/sync", "ab")
    assert header == (
        'collectionId="https://blog.example/actor/followers", url="https://blog.example/sync", digest="ab"'
    )
