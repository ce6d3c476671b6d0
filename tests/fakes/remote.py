"""One loopback "remote instance" for the tests: a real aiohttp server on 127.0.0.x playing a Mastodon server.

It serves a Person at every /users/<name> (Mastodon's shape, a test key per name), WebFinger, and the objects a
test puts in `objects` (Notes, collections, pages, by path and query); routes a test adds with `serve` or
`serve_json` come first (with `actors=False`, nothing else is served). It records every request (`requests`) and
every POST to its inboxes (`received`, each signature checked with the blog's public key), answering with
`inbox_answers` in turn, then `inbox_statuses`, per path (202 otherwise). It sends like Mastodon 4 too: activities
shaped like tests/fixtures/samples (URLs rewritten), signed with fedblog.protocol.httpsig.sign_request.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.models import Post
from fedblog.protocol.httpsig import SignatureError, sign_request, verify_request
from fedblog.protocol.keys import generate_private_key_pem, load_private_key, public_key_pem
from fedblog.services.inbox import wait_for_processing
from tests.conftest import free_port

if TYPE_CHECKING:
    from fedblog.context import Context
    from tests.conftest import LiveSite

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
SAMPLE_HOST = "https://mastodon.example"
AS2 = "application/activity+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_ACTOR_PATH = re.compile(r"/users/([^/]+)")
_INBOX_PATH = re.compile(r"/inbox|/users/[^/]+/inbox")


def remote_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name per test session (generating 2048-bit keys is slow)."""
    if name not in _KEYS:
        _KEYS[name] = load_private_key(generate_private_key_pem())
    return _KEYS[name]


def actor_key(name: str) -> rsa.RSAPrivateKey:
    """The key of the remote actor `name`, on whatever instance it lives."""
    return remote_key(f"actor:{name}")


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


def check_signature(request: web.Request, body: bytes, blog_key_pem: str) -> tuple[bool, str]:
    """(verified, why not) for a request the blog signed, checked with the blog's public key."""
    try:
        verify_request(
            method=request.method,
            path_qs=request.path_qs,
            headers=request.headers,
            body=body,
            public_key_pem=blog_key_pem,
            now=datetime.now(UTC),
        )
    except SignatureError as error:
        return False, str(error)
    return True, ""


def as2(document: dict[str, Any], status: int = 200, content_type: str = AS2) -> web.Response:
    return web.Response(status=status, body=json.dumps(document).encode(), content_type=content_type)


@dataclass(frozen=True)
class Recorded:
    """Any request the instance got."""

    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Received:
    """A POST to one of the instance's inboxes, and whether the blog's signature on it holds."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str = ""

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)


class RemoteInstance:
    """A remote fediverse server on loopback; `site` is the blog it talks to (its key checks what it receives)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        site: LiveSite | None = None,
        blog_public_key_pem: str = "",
        shared_inbox: bool = True,
        actors: bool = True,
        avatars: bool = False,
    ) -> None:
        self.host = host
        self.port = free_port(host)
        self.site = site
        self.blog_public_key_pem = blog_public_key_pem
        self.shared_inbox = shared_inbox
        self.actors = actors
        self.avatars = avatars  # each Person gets an icon (at /a/<name>.png) unless its profile says otherwise
        # name → {"name": display name, "icon": avatar URL, "alsoKnownAs": …}: how a served Person differs.
        self.profiles: dict[str, dict[str, Any]] = {}
        self.gone_actors: set[str] = set()  # answered 410
        self.objects: dict[str, dict[str, Any]] = {}  # path (with its query, or without) → document
        self.webfinger: dict[str, dict[str, Any]] = {}  # acct:… → JRD
        self.routes: dict[str, Handler] = {}  # path → handler, before anything else
        self.inbox_statuses: dict[str, int] = {}  # inbox path → status to answer (202 otherwise)
        self.inbox_answers: dict[str, list[int]] = {}  # inbox path → statuses answered in turn, before the above
        self.inbox_headers: dict[str, dict[str, str]] = {}  # inbox path → headers to answer (Retry-After…)
        self.requests: list[Recorded] = []
        self.received: list[Received] = []
        self.fetched: list[str] = []  # the path and query of each GET of an object
        self._runner: web.AppRunner | None = None
        self._counter = 113456789012345678

    # -- addresses ---------------------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def actor_id(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def inbox(self, name: str) -> str:
        return f"{self.actor_id(name)}/inbox"

    def handle(self, name: str) -> str:
        """As shown on the blog: @user@host (the port is not part of a handle)."""
        return f"@{name}@{self.host}"

    def address(self, name: str) -> str:
        """What a visitor types to be found by WebFinger here: @user@host:port."""
        return f"@{name}@{self.host}:{self.port}"

    def next_note_id(self, name: str) -> str:
        self._counter += 1
        return f"{self.actor_id(name)}/statuses/{self._counter}"

    def key(self, name: str) -> rsa.RSAPrivateKey:
        return actor_key(name)

    @property
    def blog_key_pem(self) -> str:
        return self.blog_public_key_pem or (self.site.ctx.public_key_pem if self.site is not None else "")

    # -- what it serves ----------------------------------------------------------------------------------------

    def actor_document(self, name: str) -> dict[str, Any]:
        profile = self.profiles.get(name, {})
        document = person_document(
            self.base,
            name,
            self.key(name),
            display_name=profile.get("name"),
            icon=profile.get("icon", f"{self.base}/a/{name}.png" if self.avatars else None),
            shared_inbox=self.shared_inbox,
        )
        for extra in ("alsoKnownAs", "assertionMethod"):
            if extra in profile:
                document[extra] = profile[extra]
        return document

    def serve(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def serve_json(self, path: str, doc: dict[str, Any], status: int = 200, content_type: str = AS2) -> None:
        async def handler(_request: web.Request) -> web.Response:
            return as2(doc, status, content_type)

        self.serve(path, handler)

    def mastodon_actor(self, username: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
        """samples/actor-mastodon-person.json moved to this host and user, with `key`."""
        text = (SAMPLES / "actor-mastodon-person.json").read_text()
        text = text.replace(SAMPLE_HOST, self.base).replace("/users/alice", f"/users/{username}")
        text = text.replace("/@alice", f"/@{username}")
        doc = json.loads(text)
        doc["preferredUsername"] = username
        doc["publicKey"]["publicKeyPem"] = public_key_pem(key)
        return doc

    def add_actor(self, username: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
        """Serve the sample Mastodon actor as `username`, with `key`."""
        doc = self.mastodon_actor(username, key)
        self.serve_json(f"/users/{username}", doc)
        return doc

    # -- what it got -------------------------------------------------------------------------------------------

    def paths_requested(self) -> list[str]:
        return [request.path_qs for request in self.requests]

    def received_at(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]

    def delivered(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [item.activity for item in self.received if kind is None or item.activity.get("type") == kind]

    # -- the server --------------------------------------------------------------------------------------------

    async def start(self) -> RemoteInstance:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), body))
        path = request.path
        if path in self.routes:
            return await self.routes[path](request)
        if not self.actors:
            return web.Response(status=404)  # only what the test serves
        if request.method == "POST" and _INBOX_PATH.fullmatch(path):
            return await self._inbox(request)
        if request.method != "GET":
            return web.Response(status=404)
        if path == "/.well-known/webfinger":
            jrd = self.webfinger.get(request.query.get("resource", ""))
            return as2(jrd, content_type="application/jrd+json") if jrd is not None else web.Response(status=404)
        actor = _ACTOR_PATH.fullmatch(path)
        if actor is not None:
            name = actor.group(1)
            return web.Response(status=410) if name in self.gone_actors else as2(self.actor_document(name))
        self.fetched.append(request.path_qs)
        document = self.objects.get(request.path_qs, self.objects.get(path))
        return as2(document) if document is not None else web.Response(status=404)

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        verified, reason = check_signature(request, body, self.blog_key_pem)
        self.received.append(Received(request.path, dict(request.headers), body, verified, reason))
        answers = self.inbox_answers.get(request.path)
        status = answers.pop(0) if answers else self.inbox_statuses.get(request.path, 202)
        return web.Response(status=status, headers=self.inbox_headers.get(request.path, {}))

    # -- sending like Mastodon 4 -------------------------------------------------------------------------------

    def sample(self, name: str, actor: str = "alice", post: Post | None = None) -> dict[str, Any]:
        """A sample payload with its URLs pointing here (actor `actor`) and at the blog (post `post`)."""
        assert self.site is not None
        text = (SAMPLES / f"{name}.json").read_text(encoding="utf-8")
        text = text.replace(f"{SAMPLE_HOST}/users/alice", self.actor_id(actor))
        text = text.replace(SAMPLE_HOST, self.base)
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

    def signed_post(self, key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes) -> dict[str, str]:
        """The headers of a POST of `body` to `url` signed with `key` as `key_id`."""
        return sign_request(
            private_key=key, key_id=key_id, method="POST", url=url, body=body, headers={"Content-Type": AS2}
        )

    async def post_signed(
        self,
        name: str,
        url: str,
        activity: dict[str, Any],
        *,
        content_type: str = AS2,
        body: bytes | None = None,
        key: rsa.RSAPrivateKey | None = None,
        key_id: str | None = None,
        tamper: bool = False,
    ) -> tuple[int, str]:
        """POST an activity as `name`, signed like Mastodon signs (or tampered after signing): (status, text)."""
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

    async def send(
        self, actor: str, activity: dict[str, Any], *, key_name: str | None = None, wait: bool = True
    ) -> int:
        """POST to the blog's shared inbox, signed by `actor` (or with another actor's key), then let it process."""
        assert self.site is not None
        url = self.site.ctx.urls.shared_inbox()
        body = json.dumps(activity).encode()
        signer = key_name or actor
        headers = self.signed_post(self.key(signer), f"{self.actor_id(signer)}#main-key", url, body)
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            status = response.status
        if wait:
            await wait_for_processing(self.site.ctx)
        return status


async def start_remote(
    remotes: list[RemoteInstance], ctx: Context, host: str, shared_inbox: bool = True
) -> RemoteInstance:
    """A remote instance on `host` that checks what it receives with the blog's key; closed by the `remotes`
    fixture (tests/integration/conftest.py)."""
    remote = await RemoteInstance(host=host, shared_inbox=shared_inbox, blog_public_key_pem=ctx.public_key_pem).start()
    remotes.append(remote)
    return remote


def follow_activity(remote: RemoteInstance, name: str, blog_actor: str, number: int = 1) -> dict[str, Any]:
    """Shaped like samples/follow.json (what Mastodon 4 sends)."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base}/6d2c1f0e-3b7a-4c52-9a63-{number:012d}",
        "type": "Follow",
        "actor": remote.actor_id(name),
        "object": blog_actor,
    }


def undo_follow_activity(remote: RemoteInstance, name: str, follow: dict[str, Any]) -> dict[str, Any]:
    """Shaped like samples/undo-follow.json."""
    embedded = {key: value for key, value in follow.items() if key != "@context"}
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id(name)}#follows/31337/undo",
        "type": "Undo",
        "actor": remote.actor_id(name),
        "object": embedded,
    }
