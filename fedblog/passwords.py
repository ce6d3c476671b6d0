"""Admin password hashing with argon2id (argon2-cffi: memory-hard, salted, self-describing hashes)."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password: verifying against it costs the same as a real check (no timing oracle).
    Made on first use, not at import: argon2 costs ~0.2 s and 64 MiB, which every `fedblog` start would pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)
