"""What two `fedblog serve` processes on one database must agree on, beyond the limits of test_shared_limits.py: an
admin session opened through one is honoured, and ended, through the other; a comment approved through one shows on
the page the other had cached; a signed request replayed to the other is acknowledged and not processed twice; and
an actor's Update or Delete heard by one retires the key the other had cached (a deleted account's key, or the key
replaced by a rotation, verifies nothing more on either)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yarl import URL

from fedblog.assembly import open_context
from fedblog.protocol.httpsig import sign_request
from fedblog.protocol.integrity import add_proof, multikey_document
from tests.conftest import ADMIN_PASSWORD, free_port
from tests.fakes.remote import AS2, person_document, remote_key
from tests.faults.support import ServedBlog, fault_site, publish_offline

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def two_blogs(tmp_path: Path) -> AsyncIterator[tuple[ServedBlog, ServedBlog, str]]:
    port_a, port_b = free_port(), free_port()
    settings = fault_site(tmp_path / "site", port_a, comments={"moderation": "hold_all", "rate_limit_per_minute": 100})
    slug = await publish_offline(settings, "Shared")
    first = await ServedBlog(settings, port_a).start()
    second = await ServedBlog(settings, port_b).start()
    yield first, second, slug
    await first.stop()
    await second.stop()


class RemoteActorsServer:
    """A loopback instance whose actors' documents the test changes (a new key, a deleted account)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.documents: dict[str, tuple[int, dict[str, Any]]] = {}
        self.fetches: list[str] = []
        self._runner: web.AppRunner | None = None

    def publish(self, name: str, key: rsa.RSAPrivateKey) -> None:
        self.documents[name] = (200, person_document(self.base, name, key))

    def delete(self, name: str) -> None:
        self.documents[name] = (410, {"error": "Gone"})

    def actor(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    async def start(self) -> RemoteActorsServer:
        async def actor(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            self.fetches.append(name)
            status, document = self.documents.get(name, (404, {}))
            return web.Response(status=status, body=json.dumps(document), content_type=AS2)

        app = web.Application()
        app.router.add_get("/users/{name}", actor)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def remote() -> AsyncIterator[RemoteActorsServer]:
    server = await RemoteActorsServer().start()
    yield server
    await server.close()


async def post_signed(
    blog: ServedBlog, activity: dict[str, Any], key: rsa.RSAPrivateKey, key_id: str
) -> tuple[int, dict[str, str], bytes]:
    """POST `activity` to the blog's shared inbox signed with `key`: (status, the signed headers, the body)."""
    body = json.dumps(activity).encode()
    # Signed for the site's address (both processes serve the one site; a proxy would spread requests over them)
    headers = sign_request(
        private_key=key, key_id=key_id, method="POST", url=f"{blog.settings.site.base_url}/inbox", body=body,
        headers={"Content-Type": "application/activity+json"},
    )  # fmt: skip
    return await post_raw(f"{blog.url}/inbox", headers, body), headers, body


async def post_raw(url: str, headers: dict[str, str], body: bytes) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


def like(remote: RemoteActorsServer, name: str, blog: ServedBlog, slug: str, number: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor(name)}/likes/{number}",
        "type": "Like",
        "actor": remote.actor(name),
        "object": f"{blog.settings.site.base_url}/posts/{slug}",
    }


@pytest.mark.timeout(120)
async def test_actor_delete_or_update_heard_by_one_process_retires_the_key_the_other_cached(
    two_blogs: tuple[ServedBlog, ServedBlog, str], remote: RemoteActorsServer
) -> None:
    first, second, slug = two_blogs
    old_key, new_key = remote_key("shared-state-old"), remote_key("shared-state-new")
    for name in ("ana", "bob"):
        remote.publish(name, old_key)
        # Given the second process verified a request of each actor, and keeps the key in its memory
        status, _, _ = await post_signed(
            second, like(remote, name, second, slug, 1), old_key, f"{remote.actor(name)}#main-key"
        )
        assert status == 202

    # When ana's account is deleted, and the first process hears her Delete
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor('ana')}#delete",
        "type": "Delete",
        "actor": remote.actor("ana"),
        "object": remote.actor("ana"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    assert (await post_signed(first, delete, old_key, f"{remote.actor('ana')}#main-key"))[0] == 202
    remote.delete("ana")
    # Then her old key verifies nothing more on the second process either: it asks her server, which says Gone
    status, _, _ = await post_signed(
        second, like(remote, "ana", second, slug, 2), old_key, f"{remote.actor('ana')}#main-key"
    )
    assert status == 401

    # When bob rotates his key and the first process hears his Update, signed with the new key
    remote.publish("bob", new_key)
    update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor('bob')}#updates/1",
        "type": "Update",
        "actor": remote.actor("bob"),
        "object": remote.documents["bob"][1],
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    assert (await post_signed(first, update, new_key, f"{remote.actor('bob')}#main-key"))[0] == 202
    # Then the second process no longer takes the old key, and takes the new one
    status, _, _ = await post_signed(
        second, like(remote, "bob", second, slug, 2), old_key, f"{remote.actor('bob')}#main-key"
    )
    assert status == 401
    status, _, _ = await post_signed(
        second, like(remote, "bob", second, slug, 3), new_key, f"{remote.actor('bob')}#main-key"
    )
    assert status == 202


@pytest.mark.timeout(120)
async def test_an_actor_update_heard_by_one_process_retires_the_proof_keys_the_other_kept(
    two_blogs: tuple[ServedBlog, ServedBlog, str], remote: RemoteActorsServer
) -> None:
    first, second, slug = two_blogs
    key = remote_key("shared-state-proofs")
    old_proof_key, new_proof_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    proof_key_id = f"{remote.actor('dana')}#ed25519-key"

    def lists(proof_key: Ed25519PrivateKey) -> None:
        """dana's actor document lists `proof_key` as her one FEP-8b32 assertion key."""
        remote.publish("dana", key)
        document = remote.documents["dana"][1]
        document["assertionMethod"] = [multikey_document(proof_key_id, remote.actor("dana"), proof_key.public_key())]

    def proved_like(number: int, proof_key: Ed25519PrivateKey) -> dict[str, Any]:
        return add_proof(like(remote, "dana", second, slug, number), proof_key, proof_key_id, datetime.now(UTC))

    # Given the second process accepted a Like whose integrity proof dana made with her key, and keeps that key
    lists(old_proof_key)
    assert (await post_signed(second, proved_like(1, old_proof_key), key, f"{remote.actor('dana')}#main-key"))[0] == 202
    # When dana replaces it (the old one leaked) and the first process hears her Update
    lists(new_proof_key)
    update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor('dana')}#updates/1",
        "type": "Update",
        "actor": remote.actor("dana"),
        "object": remote.documents["dana"][1],
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    assert (await post_signed(first, update, key, f"{remote.actor('dana')}#main-key"))[0] == 202
    # Then the second process no longer takes a proof made with the old key, and takes one made with the new key
    status, _, _ = await post_signed(second, proved_like(2, old_proof_key), key, f"{remote.actor('dana')}#main-key")
    assert status == 401
    status, _, _ = await post_signed(second, proved_like(3, new_proof_key), key, f"{remote.actor('dana')}#main-key")
    assert status == 202


@pytest.mark.timeout(120)
async def test_a_signed_request_replayed_to_the_other_process_is_acknowledged_and_not_processed_twice(
    two_blogs: tuple[ServedBlog, ServedBlog, str], remote: RemoteActorsServer
) -> None:
    first, second, slug = two_blogs
    key = remote_key("shared-state-replay")
    remote.publish("cleo", key)
    # Given a Like sent to the first process
    status, headers, body = await post_signed(
        first, like(remote, "cleo", first, slug, 1), key, f"{remote.actor('cleo')}#main-key"
    )
    assert status == 202
    # When the very same signed request is sent to the second process
    assert await post_raw(f"{second.url}/inbox", headers, body) == 202
    # Then the activity was processed once: one reaction, one record
    async with open_context(first.settings) as ctx:
        likes = await ctx.db.fetch_value("SELECT COUNT(*) FROM reactions")
        records = await ctx.db.fetch_value("SELECT COUNT(*) FROM inbox_activities WHERE type = 'Like'")
    assert (likes, records) == (1, 1)


@pytest.mark.timeout(120)
async def test_admin_session_and_moderation_through_one_process_hold_on_the_other(
    two_blogs: tuple[ServedBlog, ServedBlog, str],
) -> None:
    first, second, slug = two_blogs
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as visitor:
        # Given a comment held for moderation, sent through the first process with the form it served
        async with visitor.get(f"{first.url}/posts/{slug}") as response:
            token = CSRF.search(await response.text())
        assert token
        form = {"name": "Ana", "email": "ana@example.org", "website": "", "nickname": "", "parent_id": ""}
        form |= {"message": "Held, then approved elsewhere.", "csrf_token": token.group(1)}
        async with visitor.post(f"{second.url}/posts/{slug}/comments", data=form, allow_redirects=False) as response:
            assert response.status == 303  # the form of one process is taken by the other (the same secret)
    async with aiohttp.ClientSession() as reader, reader.get(f"{first.url}/posts/{slug}") as response:
        assert "Held, then approved elsewhere." not in await response.text()  # cached here, without it

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as admin:
        # When the author logs in through the first process
        login = {"password": ADMIN_PASSWORD}
        async with admin.post(f"{first.url}/admin/login", data=login, allow_redirects=False) as response:
            assert response.status == 303
        # Then the second process knows the session
        async with admin.get(f"{second.url}/admin/comments", allow_redirects=False) as response:
            assert response.status == 200
            page = await response.text()
        comment_id = re.search(r"/admin/comments/(\d+)/approve", page)
        admin_token = CSRF.search(page)
        assert comment_id and admin_token
        # And a comment approved through it shows at once on the page the first process had cached
        approve = f"{second.url}/admin/comments/{comment_id.group(1)}/approve"
        async with admin.post(approve, data={"csrf_token": admin_token.group(1)}, allow_redirects=False) as response:
            assert response.status == 303
        async with aiohttp.ClientSession() as reader, reader.get(f"{first.url}/posts/{slug}") as response:
            assert "Held, then approved elsewhere." in await response.text()
        # And a logout through the second process ends the session on the first (its cookie kept to try again)
        session_cookie = {cookie.key: cookie.value for cookie in admin.cookie_jar}
        async with admin.post(
            f"{second.url}/admin/logout", data={"csrf_token": admin_token.group(1)}, allow_redirects=False
        ) as response:
            assert response.status == 303
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as stale:
        stale.cookie_jar.update_cookies(session_cookie, response_url=URL(first.url))
        async with stale.get(f"{first.url}/admin/comments", allow_redirects=False) as response:
            assert response.status in (302, 303) and "/admin/login" in response.headers["Location"]
