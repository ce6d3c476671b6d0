"""Followers collection synchronization (FEP-8fcf), pure: the digest of the followers a receiving server holds,
and the `Collection-Synchronization` header that carries it with each delivery addressed to the followers.

As Mastodon computes it (`Account::FollowerHashing#remote_followers_hash`, app/models/concerns/account/): the
SHA-256 of each follower's actor id, XORed together, as lowercase hex, over the followers on the receiving server;
the header names the followers collection, the partial collection to fetch (signed) when the receiver's digest
differs from its own, and the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HEADER = "Collection-Synchronization"


def followers_digest(actor_ids: Iterable[str]) -> str:
    """XOR of the SHA-256 of each id (order does not matter), 64 hex digits; all zeros for none."""
    total = 0
    for actor_id in actor_ids:
        total ^= int.from_bytes(hashlib.sha256(actor_id.encode("utf-8")).digest(), "big")
    return f"{total:064x}"


def synchronization_header(collection_id: str, partial_url: str, digest: str) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"collectionId={quoted(collection_id)}, url={quoted(partial_url)}, digest={quoted(digest)}"
