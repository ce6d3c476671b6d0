"""A loopback aiohttp server playing a remote fediverse instance: serves documents, records every request."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.protocol.httpsig import sign_request
from tests.conftest import free_port

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
SAMPLE_HOST = "https://mastodon.example"
AS2 = "application/activity+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_KEYS: list[rsa.RSAPrivateKey] = []


def peer_key(index: int) -> rsa.RSAPrivateKey:
    """The index-th RSA key of this test session (2048-bit generation is slow: each is made once)."""
    while len(_KEYS) <= index:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[index]


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass(frozen=True)
class Recorded:
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


class RemotePeer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.base = f"http://{host}:{self.port}"
        self.routes: dict[str, Handler] = {}
        self.requests: list[Recorded] = []
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def paths_requested(self) -> list[str]:
        return [request.path_qs for request in self.requests]

    def serve(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def serve_json(self, path: str, doc: dict[str, Any], status: int = 200, content_type: str = AS2) -> None:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(status=status, body=json.dumps(doc).encode(), content_type=content_type)

        self.serve(path, handler)

    def mastodon_actor(self, username: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
        """samples/actor-mastodon-person.json moved to this host and user, with a real key."""
        text = (SAMPLES / "actor-mastodon-person.json").read_text()
        text = text.replace(SAMPLE_HOST, self.base).replace("/users/alice", f"/users/{username}")
        text = text.replace("/@alice", f"/@{username}")
        doc = json.loads(text)
        doc["preferredUsername"] = username
        doc["publicKey"]["publicKeyPem"] = public_pem(key)
        return doc

    def add_actor(self, username: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
        doc = self.mastodon_actor(username, key)
        self.serve_json(f"/users/{username}", doc)
        return doc

    def signed_post(self, key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes) -> dict[str, str]:
        return sign_request(
            private_key=key,
            key_id=key_id,
            method="POST",
            url=url,
            body=body,
            headers={"Content-Type": AS2},
        )

    async def start(self) -> RemotePeer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), body))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)
