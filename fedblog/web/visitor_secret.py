"""The site's secret for what the web layer signs (form tokens, visitor cookies, preview links, face keys)."""

from __future__ import annotations

from aiohttp import web
from cryptography.hazmat.primitives import serialization

from fedblog.web.csrf import derive_secret
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY


def site_secret(app: web.Application) -> bytes:
    """Derived from the site's private key: secret, stable across restarts, no extra file."""
    state = app[STATE_KEY]
    if state.visitor_secret is None:
        key = app[CONTEXT_KEY].private_key
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        state.visitor_secret = derive_secret(pem)
    return state.visitor_secret
