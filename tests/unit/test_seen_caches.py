"""The inbox's memory of what it has seen (services/verification.py, services/inbox.py): replayed signatures and
duplicate activities are recognised, and neither cache grows past its bound however many requests come."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fedblog.context import Runtime
from fedblog.services import inbox, verification


def replays(runtime: Runtime, key_id: str, signature: bytes) -> bool:
    ctx: Any = SimpleNamespace(runtime=runtime)
    return verification._seen_before(ctx, key_id, SimpleNamespace(signature=signature))  # type: ignore[arg-type]


def test_replay_cache__the_same_signature_again_is_a_replay_another_is_not() -> None:
    runtime = Runtime()
    key = "https://social.example/users/alice#main-key"
    assert not replays(runtime, key, b"\x01" * 256)
    assert replays(runtime, key, b"\x01" * 256)
    assert not replays(runtime, key, b"\x02" * 256)
    assert not replays(runtime, "https://social.example/users/bob#main-key", b"\x01" * 256)
    assert not replays(runtime, key + "a", b"b" + b"\x01" * 255)  # no two pairs run together


def test_replay_cache__never_holds_more_than_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verification, "REPLAY_MAX_ENTRIES", 50)
    runtime = Runtime()
    for number in range(500):
        assert not replays(runtime, "https://social.example/users/alice#main-key", number.to_bytes(256, "big"))
        assert len(runtime.replay_cache) <= 51  # the bound, and the entry just recorded
    assert all(len(entry) == 16 for entry in runtime.replay_cache)  # a digest, not the key id and signature
    assert replays(runtime, "https://social.example/users/alice#main-key", (499).to_bytes(256, "big"))


def test_inbox_seen__never_holds_more_than_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "SEEN_MAX_ENTRIES", 50)
    seen: dict[bytes, None] = {}
    for number in range(500):
        inbox._remember(seen, verification.pair_digest(f"https://social.example/{number}".encode(), b"signer"))
        assert len(seen) <= 50
    assert verification.pair_digest(b"https://social.example/499", b"signer") in seen
    assert verification.pair_digest(b"https://social.example/0", b"signer") not in seen
