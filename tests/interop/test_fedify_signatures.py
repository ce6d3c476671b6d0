"""fedblog's HTTP signature code against Fedify's, both ways, without the rest of the blog in between.

A loopback remote instance (tests/fakes/remote.py) stands in for a remote server: it records what Fedify sends
(answering 401 to the first attempt, so Fedify falls back from RFC 9421 to draft-cavage) and serves the actor whose
key signs what fedblog's code sends to Fedify.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fedblog.clock import utcnow
from fedblog.protocol.httpsig import SignatureError, sign_request, verify_request
from tests.fakes.remote import RemoteInstance
from tests.interop.peer_process import PeerProcess

AS_JSON = "application/activity+json"


@pytest.fixture
async def instance() -> AsyncIterator[RemoteInstance]:
    """A remote instance on 127.0.0.1 (its actor `fake` signs what the blog's code signs here); its inbox refuses
    the first attempt the way fedblog refuses a signature it cannot verify."""
    fake = await RemoteInstance().start()
    fake.inbox_answers["/inbox"] = [401]
    try:
        yield fake
    finally:
        await fake.close()


async def _peer_public_key(peer: PeerProcess) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(peer.actor, headers={"Accept": AS_JSON}) as response,
    ):
        actor = json.loads(await response.text())
    return actor["publicKey"]["publicKeyPem"]


async def test_httpsig__fedblog_verifies_fedifys_rfc9421_and_cavage_signatures(
    peer: PeerProcess, instance: RemoteInstance
) -> None:
    await peer.send_note(instance.url("/inbox"), "<p>Signed twice.</p>")

    first, second = instance.received
    assert "Signature-Input" in first.headers  # RFC 9421 first…
    assert "Signature" in second.headers and "Signature-Input" not in second.headers  # …cavage after the 401
    key = await _peer_public_key(peer)
    for request in (first, second):
        params = verify_request(
            method="POST",
            path_qs=request.path,
            headers=request.headers,
            body=request.body,
            public_key_pem=key,
            now=utcnow(),
            scheme="http",
        )
        assert params.key_id == f"{peer.actor}#main-key"
        with pytest.raises(SignatureError):
            verify_request(
                method="POST",
                path_qs=request.path,
                headers=request.headers,
                body=request.body.replace(b"Signed twice.", b"Signed thrice"),
                public_key_pem=key,
                now=utcnow(),
                scheme="http",
            )


async def _post_signed(peer: PeerProcess, instance: RemoteInstance, activity: dict[str, Any], body: bytes) -> int:
    url = f"{peer.origin}/inbox"
    headers = sign_request(
        private_key=instance.key("fake"),
        key_id=f"{instance.actor_id('fake')}#main-key",
        method="POST",
        url=url,
        body=json.dumps(activity).encode(),
        headers={"Content-Type": AS_JSON},
    )
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_httpsig__fedify_verifies_fedblogs_signatures(peer: PeerProcess, instance: RemoteInstance) -> None:
    def create(text: str) -> dict[str, Any]:
        note_id = instance.url(f"/users/fake/statuses/{text.replace(' ', '-')}")
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": instance.actor_id("fake"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": instance.actor_id("fake"),
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
