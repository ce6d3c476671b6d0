"""A loopback "remote Mastodon": a real aiohttp server on 127.0.0.x serving actors with test keys, recording
every POST to its inboxes and checking each signature with the blog's public key."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.protocol.httpsig import SignatureError, sign_request, verify_request
from fedblog.protocol.keys import generate_private_key_pem, load_private_key, public_key_pem
from tests.conftest import free_port

_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def remote_key(name: str = "remote") -> rsa.RSAPrivateKey:
    """One RSA key per name per test session (generating keys is slow)."""
    if name not in _KEYS:
        _KEYS[name] = load_private_key(generate_private_key_pem())
    return _KEYS[name]


def person_document(
    base: str,
    name: str,
    key: rsa.RSAPrivateKey,
    *,
    display_name: str | None = None,
    icon: str | None = None,
    shared_inbox: bool = True,
) -> dict[str, Any]:
    """A Person shaped like Mastodon's (ids under <base>/users/<name>), with the public half of `key`."""
    actor_id = f"{base}/users/{name}"
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "preferredUsername": name,
        "name": display_name or name.capitalize(),
        "url": f"{base}/@{name}",
        "inbox": f"{actor_id}/inbox",
        "outbox": f"{actor_id}/outbox",
        "followers": f"{actor_id}/followers",
        "following": f"{actor_id}/following",
        "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": public_key_pem(key)},
    }
    if shared_inbox:
        document["endpoints"] = {"sharedInbox": f"{base}/inbox"}
    if icon:
        document["icon"] = {"type": "Image", "mediaType": "image/png", "url": icon}
    return document


def check_signature(request: web.Request, body: bytes, public_key_pem: str) -> tuple[bool, str]:
    """(verified, why not) for a request the blog signed, checked with the blog's public key."""
    try:
        verify_request(
            method=request.method,
            path_qs=request.path_qs,
            headers=request.headers,
            body=body,
            public_key_pem=public_key_pem,
            now=datetime.now(UTC),
        )
    except SignatureError as error:
        return False, str(error)
    return True, ""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str = ""

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakeRemote:
    """Actors /users/<name>, personal inboxes /users/<name>/inbox, a shared inbox /inbox (unless disabled)."""

    host: str = "127.0.0.1"
    shared_inbox: bool = True
    blog_public_key_pem: str = ""
    received: list[Received] = field(default_factory=list)
    # Status to answer per inbox path (default 202), and optional headers (Retry-After…)
    answers: dict[str, int] = field(default_factory=dict)
    answer_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    gone_actors: set[str] = field(default_factory=set)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def actor_id(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def inbox(self, name: str) -> str:
        return f"{self.actor_id(name)}/inbox"

    def key(self, name: str) -> rsa.RSAPrivateKey:
        return remote_key(f"{self.host}:{name}")

    def actor_document(self, name: str) -> dict[str, Any]:
        return person_document(self.base, name, self.key(name), shared_inbox=self.shared_inbox)

    async def start(self) -> FakeRemote:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self.runner, self.host, self.port).start()
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name in self.gone_actors:
            return web.Response(status=410)
        return web.Response(
            body=json.dumps(self.actor_document(name)).encode(), content_type="application/activity+json"
        )

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        verified, reason = check_signature(request, body, self.blog_public_key_pem)
        self.received.append(Received(request.path, dict(request.headers), body, verified, reason))
        status = self.answers.get(request.path, 202)
        return web.Response(status=status, headers=self.answer_headers.get(request.path, {}))

    def received_at(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]

    async def post_signed(
        self,
        name: str,
        url: str,
        activity: dict[str, Any],
        *,
        content_type: str = "application/activity+json",
        body: bytes | None = None,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str | None = None,
        tamper: bool = False,
    ) -> tuple[int, str]:
        """POST an activity as `name`, signed like Mastodon signs (or tampered after signing)."""
        raw = body if body is not None else json.dumps(activity).encode()
        headers = sign_request(
            private_key=key or self.key(name),
            key_id=key_id or f"{self.actor_id(name)}#main-key",
            method="POST",
            url=url,
            body=raw,
            headers={"Content-Type": content_type},
        )
        if tamper:
            raw = raw.replace(b"Follow", b"Folloq")
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=io.BytesIO(raw), headers=headers) as response,
        ):
            return response.status, await response.text()


def follow_activity(remote: FakeRemote, name: str, blog_actor: str, number: int = 1) -> dict[str, Any]:
    """Shaped like samples/follow.json (what Mastodon 4 sends)."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base}/6d2c1f0e-3b7a-4c52-9a63-{number:012d}",
        "type": "Follow",
        "actor": remote.actor_id(name),
        "object": blog_actor,
    }


def undo_follow_activity(remote: FakeRemote, name: str, follow: dict[str, Any]) -> dict[str, Any]:
    """Shaped like samples/undo-follow.json."""
    embedded = {key: value for key, value in follow.items() if key != "@context"}
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id(name)}#follows/31337/undo",
        "type": "Undo",
        "actor": remote.actor_id(name),
        "object": embedded,
    }
