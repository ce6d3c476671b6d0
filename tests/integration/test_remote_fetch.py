"""Remote fetches against a loopback server playing another instance: signed GETs, the actor and key cache with its
two-way owner check, key rotation, inbound verification, and the SSRF, size and redirect limits."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog import __version__
from fedblog.protocol.addresses import is_public_address
from fedblog.protocol.httpsig import SignatureError, verify_request
from fedblog.protocol.keys import public_key_pem
from fedblog.services.http import FetchError, HttpClient, get_http
from fedblog.services.remote import RemoteActors, RemoteError
from fedblog.services.verification import Rejected, Verified, verify_inbound
from tests.conftest import LiveSite
from tests.fakes.remote import AS2, RemoteInstance, remote_key
from tests.helpers import rfc9421_sign

PeerFactory = Callable[..., Awaitable[RemoteInstance]]
ACTIVITY = b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","id":"x"}'


def peer_key(index: int) -> rsa.RSAPrivateKey:
    """The index-th test key of the session (each made once)."""
    return remote_key(f"peer:{index}")


@pytest.fixture
async def peer_factory() -> AsyncIterator[PeerFactory]:
    peers: list[RemoteInstance] = []

    async def start(host: str = "127.0.0.1") -> RemoteInstance:
        peers.append(await RemoteInstance(host, actors=False).start())
        return peers[-1]

    yield start
    for peer in peers:
        await peer.close()


@pytest.fixture
async def peer(peer_factory: PeerFactory) -> RemoteInstance:
    return await peer_factory()


def inbox_headers(site: LiveSite, peer: RemoteInstance, key_index: int, key_id: str) -> dict[str, str]:
    return peer.signed_post(peer_key(key_index), key_id, site.url + "/actor/inbox", ACTIVITY)


async def verify(site: LiveSite, headers: dict[str, str]) -> Verified | Rejected:
    return await verify_inbound(site.ctx, method="POST", path_qs="/actor/inbox", headers=headers, body=ACTIVITY)


def verifying_handler(site: LiveSite, doc: dict[str, Any], seen: list[str]) -> Callable[..., Awaitable[web.Response]]:
    """A handler that, like a server in authorized-fetch mode, serves `doc` only to GETs signed by the blog."""

    async def handler(request: web.Request) -> web.Response:
        try:
            params = verify_request(
                method=request.method,
                path_qs=request.path_qs,
                headers=request.headers,
                body=None,
                public_key_pem=site.ctx.public_key_pem,
                now=datetime.now(UTC),
            )
        except SignatureError as error:
            return web.Response(status=401, text=str(error))
        seen.append(params.key_id)
        return web.Response(body=json.dumps(doc).encode(), content_type=AS2)

    return handler


# -- actors ---------------------------------------------------------------------------------------------------------


async def test_get_actor__parses_mastodon_shape_and_caches_it(site, peer):
    # Given a Mastodon-shaped actor on the remote instance
    doc = peer.add_actor("alice", peer_key(0))
    doc["name"] = "<b>Alice</b> \u202e:blobcat: &amp; co\x07 " + "x" * 200
    peer.serve_json("/users/alice", doc)

    # When the blog asks for it twice
    actors = RemoteActors(site.ctx)
    actor = await actors.get_actor(peer.url("/users/alice"))
    again = await RemoteActors(site.ctx).get_actor(peer.url("/users/alice"))

    # Then it is parsed, and the second time it comes from the cache
    assert actor.id == peer.url("/users/alice")
    assert actor.type == "Person"
    assert actor.inbox == peer.url("/users/alice/inbox")
    assert actor.shared_inbox == peer.url("/inbox")
    assert actor.handle == f"@alice@127.0.0.1:{peer.port}"
    assert actor.name.startswith("Alice :blobcat: & co x")
    assert len(actor.name) == 100
    assert actor.icon_url == "https://files.mastodon.example/accounts/avatars/000/000/001/original/avatar.png"
    assert actor.url == peer.url("/@alice")
    assert actor.public_key_id == peer.url("/users/alice#main-key")
    assert actor.public_key_pem == public_key_pem(peer_key(0))
    assert again == actor
    assert peer.paths_requested() == ["/users/alice"]


async def test_get_actor__refresh_fetches_again(site, peer):
    peer.add_actor("alice", peer_key(0))
    actors = RemoteActors(site.ctx)
    await actors.get_actor(peer.url("/users/alice"))
    peer.add_actor("alice", peer_key(1))

    actor = await actors.get_actor(peer.url("/users/alice"), refresh=True)

    assert actor.public_key_pem == public_key_pem(peer_key(1))
    assert peer.paths_requested() == ["/users/alice", "/users/alice"]


async def test_get_actor__icon_list_and_key_list_forms_are_read(site, peer):
    doc = peer.mastodon_actor("pt", peer_key(0))
    doc["icon"] = [{"type": "Image", "url": [{"href": "https://cdn.example/a.png"}]}]
    doc["url"] = {"type": "Link", "href": peer.url("/a/pt")}
    doc["publicKey"] = [
        {"id": peer.url("/users/pt#other"), "owner": doc["id"], "publicKeyPem": public_key_pem(peer_key(1))},
        dict(doc["publicKey"]),
    ]
    peer.serve_json("/users/pt", doc)

    owner, pem = await RemoteActors(site.ctx).get_public_key(peer.url("/users/pt#main-key"))
    actor = await RemoteActors(site.ctx).get_actor(peer.url("/users/pt"))

    assert (owner, pem) == (peer.url("/users/pt"), public_key_pem(peer_key(0)))
    assert actor.icon_url == "https://cdn.example/a.png"
    assert actor.url == peer.url("/a/pt")


async def test_get_actor__id_on_another_host_is_refused(site, peer):
    doc = peer.mastodon_actor("alice", peer_key(0))
    doc["id"] = "https://elsewhere.example/users/alice"
    peer.serve_json("/users/alice", doc)

    with pytest.raises(RemoteError, match="id does not match"):
        await RemoteActors(site.ctx).get_actor(peer.url("/users/alice"))


async def test_fetch_object__id_must_equal_the_url(site, peer):
    note = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note", "id": peer.url("/notes/1")}
    peer.serve_json("/notes/1", note)
    peer.serve_json("/notes/2", note)

    assert (await RemoteActors(site.ctx).fetch_object(peer.url("/notes/1")))["type"] == "Note"
    with pytest.raises(RemoteError, match="does not match"):
        await RemoteActors(site.ctx).fetch_object(peer.url("/notes/2"))


# -- keys and inbound verification ----------------------------------------------------------------------------------


async def test_verify_inbound__mastodon_signed_post_is_verified_and_its_replay_marked(site, peer):
    peer.add_actor("alice", peer_key(0))
    headers = inbox_headers(site, peer, 0, peer.url("/users/alice#main-key"))

    first = await verify(site, headers)
    second = await verify(site, headers)

    assert first == Verified(actor_id=peer.url("/users/alice"), key_id=peer.url("/users/alice#main-key"))
    assert isinstance(second, Verified) and second.replayed
    assert peer.paths_requested() == ["/users/alice"]


async def test_verify_inbound__rotated_key_is_refetched_once(site, peer):
    # Given the blog has cached alice's first key
    key_id = peer.url("/users/alice#main-key")
    peer.add_actor("alice", peer_key(0))
    assert isinstance(await verify(site, inbox_headers(site, peer, 0, key_id)), Verified)

    # When alice's server rotates its key and signs with the new one
    peer.add_actor("alice", peer_key(1))
    verdict = await verify(site, inbox_headers(site, peer, 1, key_id))

    # Then the cached key fails, the key is fetched again once, and the request is verified
    assert verdict == Verified(actor_id=peer.url("/users/alice"), key_id=key_id)
    assert peer.paths_requested() == ["/users/alice", "/users/alice"]


async def test_verify_inbound__forged_signatures_are_rejected_after_one_refetch(site, peer):
    key_id = peer.url("/users/alice#main-key")
    peer.add_actor("alice", peer_key(0))

    verdicts = [await verify(site, inbox_headers(site, peer, 2, key_id)) for _ in range(3)]

    # Every forgery is refused; the first makes one refetch (it could have been a rotation), the burst no more
    assert verdicts == [Rejected(401, "signature does not match")] * 3
    assert peer.paths_requested() == ["/users/alice", "/users/alice"]


async def test_verify_inbound__rfc9421_signature_is_verified(site, peer):
    # Given a Fedify-style RFC 9421 POST to the blog's inbox
    peer.add_actor("alice", peer_key(0))
    key_id = peer.url("/users/alice#main-key")
    headers = rfc9421_sign(
        peer_key(0), "POST", site.url + "/actor/inbox", ACTIVITY, int(datetime.now(UTC).timestamp()), key_id
    )
    headers["Host"] = site.url.split("/")[2]

    assert await verify(site, headers) == Verified(actor_id=peer.url("/users/alice"), key_id=key_id)
    tampered = await verify_inbound(site.ctx, method="POST", path_qs="/inbox", headers=headers, body=ACTIVITY)
    assert tampered == Rejected(401, "signature does not match")


async def test_verify_inbound__tampered_body_is_rejected(site, peer):
    peer.add_actor("alice", peer_key(0))
    headers = inbox_headers(site, peer, 0, peer.url("/users/alice#main-key"))

    verdict = await verify_inbound(
        site.ctx, method="POST", path_qs="/actor/inbox", headers=headers, body=ACTIVITY.replace(b"Follow", b"Block")
    )

    assert verdict == Rejected(401, "Digest does not match the body")


async def test_verify_inbound__unfetchable_key_is_rejected_and_gone_key_flagged(site, peer):
    verdict = await verify(site, inbox_headers(site, peer, 0, peer.url("/users/nobody#main-key")))

    assert isinstance(verdict, Rejected)
    assert verdict.status == 401
    assert verdict.key_gone
    assert "cannot fetch the signature key" in verdict.reason


async def test_verify_inbound__unsigned_request_is_rejected(site):
    verdict = await verify(site, {"Host": "127.0.0.1", "Content-Type": AS2})

    assert verdict == Rejected(401, "request is not signed")


async def test_get_public_key__key_document_claiming_another_owner_is_rejected(site, peer):
    # Given a bare key document that claims bob owns it, while bob's actor lists a different key id
    peer.add_actor("bob", peer_key(0))
    key_id = peer.url("/keys/k1")
    peer.serve_json(
        "/keys/k1",
        {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": key_id,
            "owner": peer.url("/users/bob"),
            "publicKeyPem": public_key_pem(peer_key(0)),
        },
    )

    # When a request signed with that key arrives
    verdict = await verify(site, inbox_headers(site, peer, 0, key_id))

    # Then the two-way check fails: bob never said the key is his
    assert isinstance(verdict, Rejected)
    assert verdict.status == 401
    assert "does not list that key" in verdict.reason


async def test_get_public_key__actor_listing_a_foreign_key_id_is_rejected(site, peer):
    # Given mallory's actor claiming alice's key id inside mallory's document
    peer.add_actor("alice", peer_key(0))
    mallory = peer.mastodon_actor("mallory", peer_key(1))
    mallory["publicKey"]["id"] = peer.url("/users/alice#main-key")
    peer.serve_json("/users/mallory", mallory)

    with pytest.raises(RemoteError):
        await RemoteActors(site.ctx).get_public_key(peer.url("/users/mallory#main-key"))


async def test_get_public_key__owner_on_another_host_is_rejected(site, peer_factory):
    attacker = await peer_factory()
    victim = await peer_factory("127.0.0.2")
    victim.add_actor("alice", peer_key(0))
    attacker.serve_json(
        "/key",
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": attacker.url("/key"),
            "owner": victim.url("/users/alice"),
            "publicKeyPem": public_key_pem(peer_key(0)),
        },
    )

    with pytest.raises(RemoteError, match="different hosts"):
        await RemoteActors(site.ctx).get_public_key(attacker.url("/key"))
    assert victim.requests == []


async def test_verify_inbound__fragmentless_gotosocial_key_resolves_through_the_owner(site, peer):
    # Given a GoToSocial-style key id without fragment, whose URL serves a stub of the actor
    doc = peer.add_actor("carol", peer_key(0))
    key_id = peer.url("/users/carol/main-key")
    doc["publicKey"]["id"] = key_id
    peer.serve_json("/users/carol", doc)
    peer.serve_json(
        "/users/carol/main-key",
        {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": doc["id"],
            "type": "Person",
            "preferredUsername": "carol",
            "publicKey": doc["publicKey"],
        },
    )

    verdict = await verify(site, inbox_headers(site, peer, 0, key_id))

    assert verdict == Verified(actor_id=peer.url("/users/carol"), key_id=key_id)
    assert peer.paths_requested() == ["/users/carol/main-key", "/users/carol"]


# -- signed GETs and the client's limits ----------------------------------------------------------------------------


async def test_get_json__is_signed_with_the_blog_key_and_names_fedblog(site, peer):
    seen: list[str] = []
    peer.serve("/users/alice", verifying_handler(site, {"id": "x"}, seen))

    doc = await get_http(site.ctx).get_json(peer.url("/users/alice?with=query"))

    assert doc == {"id": "x"}
    assert seen == [site.url + "/actor#main-key"]
    sent = peer.requests[0].headers
    assert sent["User-Agent"] == f"fedblog/{__version__} (+{site.url}/)"
    assert sent["Accept"].startswith("application/activity+json")
    # RFC 9421 first (the host took it, so once is enough), as Fedify signs
    assert sent["Signature-Input"].startswith('sig1=("@method" "@target-uri" "@authority");created=')
    assert f'keyid="{site.url}/actor#main-key"' in sent["Signature-Input"] and len(peer.requests) == 1


def cavage_only_handler(site: LiveSite, doc: dict[str, Any]) -> Callable[..., Awaitable[web.Response]]:
    """A server that verifies draft-cavage only (Mastodon before 4.5, GoToSocial, Misskey): 401 to RFC 9421."""

    async def handler(request: web.Request) -> web.Response:
        if "Signature-Input" in request.headers:
            return web.Response(status=401, text="Request not signed")
        verify_request(
            method=request.method,
            path_qs=request.path_qs,
            headers=request.headers,
            body=await request.read() if request.method == "POST" else None,
            public_key_pem=site.ctx.public_key_pem,
            now=datetime.now(UTC),
        )
        return web.Response(body=json.dumps(doc).encode(), content_type=AS2, status=200)

    return handler


async def test_signed_requests__fall_back_to_cavage_after_a_401_and_remember_it_for_the_host(site, peer):
    # Given a server that answers 401 to RFC 9421 signatures and takes draft-cavage
    peer.serve("/users/old", cavage_only_handler(site, {"id": "old"}))
    peer.serve("/other", cavage_only_handler(site, {"id": "other"}))
    client = get_http(site.ctx)

    # When: fetched twice, then something else on the same host
    assert await client.get_json(peer.url("/users/old")) == {"id": "old"}
    assert await client.get_json(peer.url("/users/old")) == {"id": "old"}
    assert await client.get_json(peer.url("/other")) == {"id": "other"}

    # Then: RFC 9421, then cavage (double-knock) once; cavage at once afterwards
    styles = ["rfc9421" if "Signature-Input" in r.headers else "cavage" for r in peer.requests]
    assert styles == ["rfc9421", "cavage", "cavage", "cavage"]


async def test_post_activity__double_knocks_too_and_a_host_that_takes_rfc9421_gets_it(site, peer):
    peer.serve("/inbox", cavage_only_handler(site, {}))
    body = b'{"type": "Create"}'
    client = get_http(site.ctx)

    first = await client.post_activity(peer.url("/inbox"), body)
    second = await client.post_activity(peer.url("/inbox"), body)

    assert first.ok and second.ok
    styles = ["rfc9421" if "Signature-Input" in r.headers else "cavage" for r in peer.requests]
    assert styles == ["rfc9421", "cavage", "cavage"]
    assert "digest" in peer.requests[-1].headers["Signature"]


async def test_get_json__401_is_retried_once_signed_without_the_query(site, peer):
    # Given a server that rebuilds (request-target) without the query string
    async def handler(request: web.Request) -> web.Response:
        try:
            verify_request(
                method="GET",
                path_qs=request.path,
                headers=request.headers,
                body=None,
                public_key_pem=site.ctx.public_key_pem,
                now=datetime.now(UTC),
            )
        except SignatureError:
            return web.Response(status=401)
        return web.Response(body=b'{"ok": true}', content_type=AS2)

    peer.serve("/outbox", handler)

    assert await get_http(site.ctx).get_json(peer.url("/outbox?page=2")) == {"ok": True}
    # RFC 9421 (its @target-uri has the query), cavage with the query, then cavage without it
    assert peer.paths_requested() == ["/outbox?page=2", "/outbox?page=2", "/outbox?page=2"]


async def test_get_json__error_status_carries_status_and_retry_after(site, peer):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "120"})

    peer.serve("/busy", handler)

    with pytest.raises(FetchError) as caught:
        await get_http(site.ctx).get_json(peer.url("/busy"))
    assert (caught.value.status, caught.value.retry_after) == (429, 120.0)


async def test_get_json__html_answer_is_refused(site, peer):
    peer.serve_json("/page", {"id": "x"}, content_type="text/html")

    with pytest.raises(FetchError, match="unexpected content type"):
        await get_http(site.ctx).get_json(peer.url("/page"))


async def test_get_json__body_over_one_mebibyte_is_refused(site, peer):
    peer.serve_json("/big", {"id": "x", "padding": "a" * (1024 * 1024)})

    with pytest.raises(FetchError, match="too large"):
        await get_http(site.ctx).get_json(peer.url("/big"))


async def test_get_json__gzip_bomb_is_refused_at_one_mebibyte_decompressed(site, peer):
    # Given a small gzip body that expands to 8 MiB (no Content-Length hint of the real size)
    bomb = gzip.compress(b'{"id": "x", "padding": "' + b"a" * (8 * 1024 * 1024) + b'"}')
    assert len(bomb) < 64 * 1024

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Type": AS2, "Content-Encoding": "gzip"})

    peer.serve("/bomb", handler)

    with pytest.raises(FetchError, match="too large"):
        await get_http(site.ctx).get_json(peer.url("/bomb"))


async def test_get_json__deep_nesting_and_non_objects_are_refused(site, peer):
    nested: Any = "x"
    for _ in range(40):
        nested = [nested]
    peer.serve_json("/deep", {"id": "x", "nested": nested})

    async def array(_request: web.Request) -> web.Response:
        return web.Response(body=b"[1, 2]", content_type=AS2)

    peer.serve("/array", array)

    with pytest.raises(FetchError, match="nested too deeply"):
        await get_http(site.ctx).get_json(peer.url("/deep"))
    with pytest.raises(FetchError, match="not a JSON object"):
        await get_http(site.ctx).get_json(peer.url("/array"))


def redirect_to(location: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    return handler


async def test_get_json__three_redirects_are_followed_a_fourth_is_refused(site, peer):
    peer.serve_json("/doc", {"id": "x"})
    for hop in range(1, 5):
        peer.serve(f"/r{hop}", redirect_to(f"/r{hop + 1}" if hop < 4 else "/doc"))

    assert await get_http(site.ctx).get_json(peer.url("/r2")) == {"id": "x"}
    peer.requests.clear()
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await get_http(site.ctx).get_json(peer.url("/r1"))
    assert peer.paths_requested() == ["/r1", "/r2", "/r3", "/r4"]


async def test_get_jrd__reads_webfinger_unsigned(site, peer):
    peer.serve_json("/.well-known/webfinger", {"subject": "acct:alice@x"}, content_type="application/jrd+json")

    assert await get_http(site.ctx).get_jrd(peer.url("/.well-known/webfinger?resource=acct:alice@x")) == {
        "subject": "acct:alice@x"
    }
    assert "Signature" not in peer.requests[0].headers
    assert peer.requests[0].headers["Accept"].startswith("application/jrd+json")


# -- SSRF -----------------------------------------------------------------------------------------------------------


@pytest.fixture
async def guarded_site(site_factory) -> LiveSite:
    """A site with the production setting: private addresses are refused."""
    return await site_factory(overrides={"federation": {"allow_private_addresses": False}})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_get_json__private_address_is_refused_without_connecting(guarded_site, peer, host):
    peer.add_actor("alice", peer_key(0))

    with pytest.raises(FetchError, match="refused"):
        await get_http(guarded_site.ctx).get_json(f"http://{host}:{peer.port}/users/alice")
    assert peer.requests == []


async def test_post_activity__private_inbox_is_refused_without_connecting(guarded_site, peer):
    with pytest.raises(FetchError, match="refused") as caught:
        await get_http(guarded_site.ctx).post_activity(peer.url("/inbox"), ACTIVITY)
    assert caught.value.status is None
    assert peer.requests == []


async def test_get_json__redirect_to_a_private_address_is_refused(site, peer_factory):
    # Given a client that treats only 127.0.0.2 as public, and a server there redirecting to 127.0.0.1
    internal = await peer_factory("127.0.0.1")
    internal.serve_json("/secret", {"id": "secret"})
    outside = await peer_factory("127.0.0.2")
    outside.serve("/by-ip", redirect_to(internal.url("/secret")))
    outside.serve("/by-name", redirect_to(f"http://localhost:{internal.port}/secret"))
    client = HttpClient(site.ctx, address_allowed=lambda ip: ip == "127.0.0.2" or is_public_address(ip))
    try:
        for path in ("/by-ip", "/by-name"):
            with pytest.raises(FetchError, match="refused"):
                await client.get_json(outside.url(path))
    finally:
        await client.close()

    assert outside.paths_requested() == ["/by-ip", "/by-name"]
    assert internal.requests == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://user:pw@example.com/", "gopher://example.com/"])
async def test_get_json__unsafe_url_shapes_are_refused(site, url):
    with pytest.raises(FetchError, match="refused URL"):
        await get_http(site.ctx).get_json(url)


# -- deliveries -----------------------------------------------------------------------------------------------------


async def test_post_activity__is_signed_and_verifiable_by_the_recipient(site, peer):
    verified: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        params = verify_request(
            method="POST",
            path_qs=request.path_qs,
            headers=request.headers,
            body=body,
            public_key_pem=site.ctx.public_key_pem,
            now=datetime.now(UTC),
        )
        verified.append(params.key_id)
        assert request.headers["Content-Type"] == AS2
        return web.Response(status=202, text="accepted\r\nsecond line")

    peer.serve("/inbox", inbox)

    result = await get_http(site.ctx).post_activity(peer.url("/inbox"), ACTIVITY)

    assert (result.status, result.retry_after, result.body_excerpt) == (202, None, "accepted second line")
    assert verified == [site.url + "/actor#main-key"]
    assert peer.requests[0].body == ACTIVITY


async def test_post_activity__answers_are_results_even_errors(site, peer):
    async def busy(_request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "30"}, text="try later")

    peer.serve("/inbox", busy)

    result = await get_http(site.ctx).post_activity(peer.url("/inbox"), ACTIVITY)

    assert (result.status, result.retry_after, result.body_excerpt) == (503, 30.0, "try later")


async def test_post_activity__closed_port_raises_fetch_error_without_status(site, peer):
    await peer.close()

    with pytest.raises(FetchError, match="cannot connect") as caught:
        await get_http(site.ctx).post_activity(peer.url("/inbox"), ACTIVITY)
    assert caught.value.status is None
