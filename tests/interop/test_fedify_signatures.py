"""fedblog's HTTP signature code against Fedify's, both ways, without the rest of the blog in between.

A loopback server stands in for a remote instance: it records what Fedify sends (answering 401 to the first
attempt, so Fedify falls back from RFC 9421 to draft-cavage) and serves an actor holding the site key.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fedblog.clock import utcnow
from fedblog.protocol.httpsig import SignatureError, sign_request, verify_request
from fedblog.protocol.keys import load_private_key, public_key_pem
from tests.conftest import free_port, site_key_pem
from tests.interop.peer_process import PeerProcess

AS_JSON = "application/activity+json"


@dataclass
class Recorded:
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeInstance:
    """A remote instance on 127.0.0.1: an inbox that records requests, and an actor with the site key."""

    origin: str
    received: list[Recorded] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return f"{self.origin}/actor"

    def actor_json(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "preferredUsername": "fake",
            "inbox": f"{self.origin}/inbox",
            "publicKey": {
                "id": f"{self.actor}#main-key",
                "owner": self.actor,
                "publicKeyPem": public_key_pem(load_private_key(site_key_pem())),
            },
        }


@pytest.fixture
async def instance() -> AsyncIterator[FakeInstance]:
    port = free_port()
    fake = FakeInstance(f"http://127.0.0.1:{port}")

    async def inbox(request: web.Request) -> web.Response:
        fake.received.append(Recorded(request.method, request.path_qs, dict(request.headers), await request.read()))
        # Refuse the first attempt the way fedblog refuses a signature it cannot verify.
        return web.Response(status=401 if len(fake.received) == 1 else 202)

    async def actor(_request: web.Request) -> web.Response:
        return web.json_response(fake.actor_json(), content_type=AS_JSON)

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/actor", actor)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake
    finally:
        await runner.cleanup()


async def _peer_public_key(peer: PeerProcess) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(peer.actor, headers={"Accept": AS_JSON}) as response,
    ):
        actor = json.loads(await response.text())
    return actor["publicKey"]["publicKeyPem"]


async def test_httpsig__fedblog_verifies_fedifys_rfc9421_and_cavage_signatures(
    peer: PeerProcess, instance: FakeInstance
) -> None:
    await peer.send_note(f"{instance.origin}/inbox", "<p>Signed twice.</p>")

    first, second = instance.received
    assert "Signature-Input" in first.headers  # RFC 9421 first…
    assert "Signature" in second.headers and "Signature-Input" not in second.headers  # …cavage after the 401
    key = await _peer_public_key(peer)
    for request in (first, second):
        params = verify_request(
            method=request.method,
            path_qs=request.path_qs,
            headers=request.headers,
            body=request.body,
            public_key_pem=key,
            now=utcnow(),
            scheme="http",
        )
        assert params.key_id == f"{peer.actor}#main-key"
        with pytest.raises(SignatureError):
            verify_request(
                method=request.method,
                path_qs=request.path_qs,
                headers=request.headers,
                body=request.body.replace(b"Signed twice.", b"Signed thrice"),
                public_key_pem=key,
                now=utcnow(),
                scheme="http",
            )


async def _post_signed(peer: PeerProcess, instance: FakeInstance, activity: dict[str, Any], body: bytes) -> int:
    url = f"{peer.origin}/inbox"
    headers = sign_request(
        private_key=load_private_key(site_key_pem()),
        key_id=f"{instance.actor}#main-key",
        method="POST",
        url=url,
        body=json.dumps(activity).encode(),
        headers={"Content-Type": AS_JSON},
    )
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_httpsig__fedify_verifies_fedblogs_signatures(peer: PeerProcess, instance: FakeInstance) -> None:
    def create(text: str) -> dict[str, Any]:
        note_id = f"{instance.origin}/notes/{text.replace(' ', '-')}"
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": instance.actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": instance.actor,
                "content": f"<p>{text}</p>",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        }

    genuine = create("signed by fedblog")
    assert await _post_signed(peer, instance, genuine, json.dumps(genuine).encode()) == 202

    tampered = create("tampered on the way")
    altered = json.dumps(tampered).replace("tampered on the way", "TAMPERED ON THE WAY").encode()
    assert await _post_signed(peer, instance, tampered, altered) == 401

    state = await peer.state()
    verified = {entry["id"]: entry for entry in state["inbox"]}
    assert verified[genuine["id"]]["scheme"] == "cavage"
    assert verified[genuine["id"]]["parsed"]["content"] == "<p>signed by fedblog</p>"
    assert tampered["id"] not in verified
