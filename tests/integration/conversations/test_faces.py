"""Commenters' faces on the real post page: identicons made by the blog for web commenters, Gravatar only when the
author turns it on, and fediverse icons fetched once from a loopback server, resized, served from the blog and
fetched again when the actor names another icon."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from PIL import Image

from fedblog.assembly import open_context
from fedblog.protocol.activitystreams import AS_CONTEXT
from fedblog.services.faces import FACE_SIZE, MAX_ICON_BYTES, RemoteFaces
from fedblog.web.faces import settle_fetches
from tests.conftest import LiveSite, SiteFactory, free_port, settings_with
from tests.fakes.remote import RemoteInstance
from tests.helpers import fediverse_comment, page, publish
from tests.integration.blog_support import get, new_session, submit_comment

IMG_RE = re.compile(r'<img class="avatar" src="([^"]+)"')


class IconServer:
    """A loopback host serving icons, counting how often each is asked for."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    async def _serve(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        if name not in self.files:
            return web.Response(status=404)
        data, media_type = self.files[name]
        return web.Response(body=data, content_type=media_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()


@pytest.fixture
async def icons() -> AsyncIterator[IconServer]:
    server = IconServer()
    await server.start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


def png(width: int, height: int, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


async def actor_cache_expires(site: LiveSite) -> None:
    """As after the daily refresh: her next reply makes the blog fetch her actor again."""
    await site.ctx.db.connection.execute("DELETE FROM remote_actors")
    site.ctx.runtime.actors_by_id.clear()
    site.ctx.runtime.actors_by_key.clear()


async def faces_on(site: LiveSite, html: str) -> list[str]:
    return [src for src in IMG_RE.findall(html)]


async def test_web_commenter__gets_an_identicon_made_by_the_blog_that_reveals_nothing(site: LiveSite) -> None:
    post = await publish(site)
    async with new_session() as session:
        for email in ("vera@example.org", "vera@example.org", "other@example.org"):
            await submit_comment(site, post.slug, session, name="V", email=email, message=f"Hi from {email}")
    html = await page(site, post)
    faces = await faces_on(site, html)
    assert len(faces) == 3 and faces[0] == faces[1] != faces[2]
    assert all(re.fullmatch(rf"{re.escape(site.url)}/faces/[0-9a-f]{{32}}\.svg", src) for src in faces)
    for digest in (hashlib.md5(b"vera@example.org").hexdigest(), hashlib.sha256(b"vera@example.org").hexdigest()):
        assert digest[:32] not in html
    assert "gravatar" not in html
    answer = await get(site, faces[0].removeprefix(site.url))
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("image/svg+xml")
    assert "immutable" in answer.headers["Cache-Control"] and answer.text.startswith("<svg")


async def test_web_commenter__gravatar_only_when_the_author_turns_it_on(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open", "gravatar": True}})
    post = await publish(site)
    async with new_session() as session:
        await submit_comment(site, post.slug, session, name="V", email=" Vera@Example.org", message="Hi")
    [face] = await faces_on(site, await page(site, post))
    assert (
        face
        == f"https://www.gravatar.com/avatar/{hashlib.sha256(b'vera@example.org').hexdigest()}?s=80&amp;d=identicon"
    )


async def face(site: LiveSite, path: str) -> tuple[str, bytes]:
    """A reader's browser asks for a face; then the blog's fetch it started (if any) is let finish."""
    async with new_session() as session, session.get(site.url + path) as answer:
        assert answer.status == 200
        kind, data = answer.content_type, await answer.read()
    await settle_fetches(site.app)
    return kind, data


async def test_fediverse_commenter__icon_fetched_once_resized_served_here_and_refreshed_on_change(
    site: LiveSite, remote: RemoteInstance, icons: IconServer
) -> None:
    icons.files["alice.png"] = (png(400, 400, "red"), "image/png")
    icons.files["alice2.png"] = (png(200, 100, "blue"), "image/png")
    icons.files["bomb.svg"] = (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    remote.profiles["alice"] = {"icon": icons.url("alice.png")}
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    face_path = f"/faces/remote/{comment.author.id}"
    # The page never points readers at the remote server, and rendering it fetches nothing
    html = await page(site, post)
    assert await faces_on(site, html) == [site.url + face_path] and icons.url("alice.png") not in html
    assert icons.hits == {}
    # The first reader to ask gets a stand-in, and the blog fetches the icon once, in the background
    kind, _ = await face(site, face_path)
    assert kind == "image/svg+xml" and icons.hits == {"alice.png": 1}
    kind, data = await face(site, face_path)
    assert kind == "image/png" and icons.hits == {"alice.png": 1}
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (FACE_SIZE, FACE_SIZE) and image.getpixel((10, 10))[:3] == (255, 0, 0)
    # When her actor names another icon (seen with her next reply), it is fetched again
    remote.profiles["alice"] = {"icon": icons.url("alice2.png")}
    await actor_cache_expires(site)
    await fediverse_comment(site, remote, post, "<p>New face</p>")
    await face(site, face_path)
    kind, data = await face(site, face_path)
    assert kind == "image/png" and icons.hits == {"alice.png": 1, "alice2.png": 1}
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (FACE_SIZE, FACE_SIZE // 2) and image.getpixel((10, 10))[:3] == (0, 0, 255)
    # An icon of another type is refused, once: the stand-in stays, and it is not asked for again today
    remote.profiles["alice"] = {"icon": icons.url("bomb.svg")}
    await actor_cache_expires(site)
    await fediverse_comment(site, remote, post, "<p>Odd face</p>")
    assert (await face(site, face_path))[0] == "image/svg+xml"
    assert (await face(site, face_path))[0] == "image/svg+xml"
    assert icons.hits["bomb.svg"] == 1
    assert await RemoteFaces(site.ctx).refresh() == 0


async def test_fediverse_commenter__an_update_of_their_actor_brings_the_new_icon_and_name(
    site: LiveSite, remote: RemoteInstance, icons: IconServer
) -> None:
    icons.files["alice.png"] = (png(400, 400, "red"), "image/png")
    icons.files["alice2.png"] = (png(300, 300, "blue"), "image/png")
    remote.profiles["alice"] = {"icon": icons.url("alice.png")}
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    face_path = f"/faces/remote/{comment.author.id}"
    await face(site, face_path)
    assert (await face(site, face_path))[0] == "image/png" and icons.hits == {"alice.png": 1}
    # When her profile changes and her server sends an Update of her actor, her cached actor still fresh
    alice = remote.actor_id("alice")
    remote.profiles["alice"] = {"icon": icons.url("alice2.png"), "name": "Alice Anew"}
    embedded = {"id": alice, "type": "Person", "name": "Not believed", "icon": {"type": "Image", "url": "x"}}
    update = {"@context": AS_CONTEXT, "id": f"{alice}#updates/1", "type": "Update", "actor": alice, "object": embedded}
    assert await remote.send("alice", update) == 202
    # Then the blog serves her new icon, fetched from her server, and her comment shows her new name
    await face(site, face_path)
    kind, data = await face(site, face_path)
    assert kind == "image/png" and icons.hits == {"alice.png": 1, "alice2.png": 1}
    with Image.open(io.BytesIO(data)) as image:
        assert image.getpixel((10, 10))[:3] == (0, 0, 255)
    html = await page(site, post)
    assert "Alice Anew" in html and "Not believed" not in html
    # And an Update of her actor sent by another account changes nothing
    remote.profiles["alice"] = {"icon": icons.url("alice.png"), "name": "Mallory's Alice"}
    forged = {**update, "id": f"{alice}#updates/2"}
    await remote.send("alice", forged, key_name="mallory")
    assert "Mallory's Alice" not in await page(site, post)


async def test_fediverse_commenter__an_icon_too_large_or_at_a_private_address_is_never_taken(
    site: LiveSite, remote: RemoteInstance, icons: IconServer
) -> None:
    icons.files["huge.png"] = (png(10, 10, "red") + bytes(MAX_ICON_BYTES), "image/png")
    icons.files["bob.png"] = (png(40, 40, "green"), "image/png")
    remote.profiles["alice"] = {"icon": icons.url("huge.png")}
    remote.profiles["bob"] = {"icon": icons.url("bob.png")}
    post = await publish(site)
    alice = await fediverse_comment(site, remote, post)
    note = remote.note("bob", site.ctx.urls.note(post.slug), "<p>Bob here</p>")
    assert await remote.send("bob", remote.create("bob", note)) == 202
    bob = await site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert bob is not None
    # An icon over the size limit is refused: the stand-in stays
    assert (await face(site, f"/faces/remote/{alice.author.id}"))[0] == "image/svg+xml"
    assert (await face(site, f"/faces/remote/{alice.author.id}"))[0] == "image/svg+xml"
    assert icons.hits == {"huge.png": 1}
    # And with the guard on (as in production: no private addresses), an icon on 127.0.0.1 is never asked for
    guarded = settings_with(site.settings, {"federation": {"allow_private_addresses": False}})
    async with open_context(guarded) as ctx:
        assert await RemoteFaces(ctx).refresh(bob.author.id) == 0
    assert icons.hits == {"huge.png": 1}
