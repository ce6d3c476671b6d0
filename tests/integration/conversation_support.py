"""A loopback "remote Mastodon" for the conversation tests: a real aiohttp server on 127.0.0.1 that serves actors
(with test keys), Notes and WebFinger, records what the blog delivers to its inboxes (checking each signature with
the blog's key), and POSTs activities shaped like Mastodon 4's (tests/fixtures/samples, URLs rewritten) to the
blog's real inbox, signed with fedblog.protocol.httpsig.sign_request."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.models import Post
from fedblog.protocol.httpsig import sign_request
from fedblog.services.inbox import wait_for_processing
from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite, free_port
from tests.integration.fake_remote import check_signature, person_document, remote_key

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def actor_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per actor name per session (generating keys is slow)."""
    return remote_key(f"conversation:{name}")


@dataclass
class Delivery:
    path: str
    body: bytes
    verified: bool
    reason: str

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Mastodon:
    host: str = "127.0.0.1"
    port: int = 0
    site: LiveSite | None = None
    # name → {"name": display name, "icon": avatar URL}; every name is served, these change how.
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # path → document
    webfinger: dict[str, dict[str, Any]] = field(default_factory=dict)  # acct:… → JRD
    deliveries: list[Delivery] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None
    _counter: int = 113456789012345678

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def actor_id(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def handle(self, name: str) -> str:
        """As shown on the blog: @user@host (the port is not part of a handle)."""
        return f"@{name}@{self.host}"

    def address(self, name: str) -> str:
        """What a visitor types to be found by WebFinger here: @user@host:port."""
        return f"@{name}@{self.host}:{self.port}"

    def next_note_id(self, name: str) -> str:
        self._counter += 1
        return f"{self.actor_id(name)}/statuses/{self._counter}"

    def actor_document(self, name: str) -> dict[str, Any]:
        profile = self.profiles.get(name, {})
        document = person_document(
            self.base,
            name,
            actor_key(name),
            display_name=profile.get("name"),
            icon=profile.get("icon", f"{self.base}/a/{name}.png"),
        )
        if "alsoKnownAs" in profile:
            document["alsoKnownAs"] = profile["alsoKnownAs"]
        return document

    async def start(self) -> Mastodon:
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/users/{name}/statuses/{number}", self._object)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        app.router.add_get("/{tail:.*}", self._object)  # collections and pages, by path and query
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port(self.host)
        await web.TCPSite(self.runner, self.host, self.port).start()
        return self

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _webfinger(self, request: web.Request) -> web.Response:
        jrd = self.webfinger.get(request.query.get("resource", ""))
        if jrd is None:
            return web.Response(status=404)
        return web.Response(body=json.dumps(jrd).encode(), content_type="application/jrd+json")

    async def _actor(self, request: web.Request) -> web.Response:
        return as2(self.actor_document(request.match_info["name"]))

    async def _object(self, request: web.Request) -> web.Response:
        self.fetched.append(request.path_qs)
        document = self.objects.get(request.path_qs, self.objects.get(request.path))
        return as2(document) if document is not None else web.Response(status=404)

    async def _inbox(self, request: web.Request) -> web.Response:
        assert self.site is not None
        body = await request.read()
        verified, reason = check_signature(request, body, self.site.ctx.public_key_pem)
        self.deliveries.append(Delivery(request.path, body, verified, reason))
        return web.Response(status=202)

    # -- building activities like Mastodon 4 ---------------------------------------------------------------------

    def sample(self, name: str, actor: str = "alice", post: Post | None = None) -> dict[str, Any]:
        """A sample payload with its URLs pointing here (actor `actor`) and at the blog (post `post`)."""
        assert self.site is not None
        text = (SAMPLES / f"{name}.json").read_text(encoding="utf-8")
        text = text.replace("https://mastodon.example/users/alice", self.actor_id(actor))
        text = text.replace("https://mastodon.example", self.base)
        if post is not None:
            text = text.replace("https://blog.example/posts/hello-world", self.site.ctx.urls.note(post.slug))
        text = text.replace("https://blog.example", self.site.url)
        return json.loads(text)

    def note(
        self, actor: str, in_reply_to: str, content: str, *, note_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """The Note of create-note-reply.json, by `actor`, replying to `in_reply_to`; served at its id."""
        template = self.sample("create-note-reply", actor)["object"]
        note = copy.deepcopy(template)
        note_id = note_id or self.next_note_id(actor)
        note.update(
            {
                "id": note_id,
                "url": note_id.replace("/users/", "/@").replace("/statuses/", "/"),
                "atomUri": note_id,
                "inReplyTo": in_reply_to,
                "inReplyToAtomUri": in_reply_to,
                "content": content,
                "contentMap": {"fr": content},
                "attachment": [],
            }
        )
        note["tag"] = [tag for tag in note["tag"] if tag["type"] == "Mention"]
        replies = f"{note_id}/replies"
        note["replies"] = {
            "id": replies,
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": f"{replies}?only_other_accounts=true&page=true",
                "partOf": replies,
                "items": [],
            },
        }  # as Mastodon 4: the first page (the author's own answers) embedded, the others' answers next
        note.update(fields)
        self.objects[note_id.removeprefix(self.base)] = {"@context": "https://www.w3.org/ns/activitystreams", **note}
        return note

    def answers(self, note: dict[str, Any], items: list[Any]) -> None:
        """Serve `items` (ids or embedded objects) as the other accounts' answers to `note`, as Mastodon 4 pages
        its replies collection."""
        page_id = note["replies"]["first"]["next"]
        self.objects[page_id.removeprefix(self.base)] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": page_id,
            "type": "CollectionPage",
            "partOf": note["replies"]["id"],
            "items": items,
        }

    def create(self, actor: str, note: dict[str, Any]) -> dict[str, Any]:
        activity = self.sample("create-note-reply", actor)
        activity.pop("signature", None)
        activity.update({"id": f"{note['id']}/activity", "object": note, "to": note["to"], "cc": note["cc"]})
        return activity

    async def send(
        self, actor: str, activity: dict[str, Any], *, key_name: str | None = None, wait: bool = True
    ) -> int:
        """POST to the blog's shared inbox, signed by `actor` (or with another actor's key), then let it process."""
        assert self.site is not None
        url = self.site.ctx.urls.shared_inbox()
        body = json.dumps(activity).encode()
        signer = key_name or actor
        headers = sign_request(
            private_key=actor_key(signer),
            key_id=f"{self.actor_id(signer)}#main-key",
            method="POST",
            url=url,
            body=body,
            headers={"Content-Type": "application/activity+json"},
        )
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            status = response.status
        if wait:
            await wait_for_processing(self.site.ctx)
        return status

    def delivered(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [d.activity for d in self.deliveries if kind is None or d.activity.get("type") == kind]


def as2(document: dict[str, Any]) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), content_type="application/activity+json")


async def publish(site: LiveSite, title: str = "Hello world", body: str = "What do you think?") -> Post:
    return await PostService(site.ctx).publish(PostInput(title=title, body_markdown=body))


async def page(site: LiveSite, post: Post) -> str:
    async with aiohttp.ClientSession() as session, session.get(site.ctx.urls.post(post.slug)) as response:
        assert response.status == 200
        return await response.text()


async def deliver_all(site: LiveSite) -> None:
    """Run the delivery worker until the queue is empty (no waiting on timers)."""
    from fedblog.services.delivery import DeliveryWorker

    await DeliveryWorker(site.ctx).run_once()
