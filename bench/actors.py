"""Simulated remote fediverse accounts for the inbox benchmark: ids, keys, and the replies they send."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedblog.protocol.keys import generate_private_key_pem

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class RemoteActor:
    id: str
    key_id: str
    username: str
    address: str
    private_pem: str


def actor_address(host: int) -> str:
    return f"127.20.{host // 250}.{host % 250 + 1}"


def make_actors(count: int, hosts: int, port: int) -> list[RemoteActor]:
    """`count` accounts on `hosts` servers, each with its own RSA key (about 40 ms each to generate)."""
    actors = []
    for n in range(count):
        address = actor_address(n % hosts)
        actor_id = f"http://{address}:{port}/users/reader{n}"
        actors.append(
            RemoteActor(actor_id, f"{actor_id}#main-key", f"reader{n}", address, generate_private_key_pem().decode())
        )
    return actors


def save_actors(path: Path, actors: list[RemoteActor]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(actor) for actor in actors]), encoding="utf-8")
    return path


def load_actors(path: str | Path) -> list[RemoteActor]:
    return [RemoteActor(**item) for item in json.loads(Path(path).read_text(encoding="utf-8"))]


def reply_activity(
    actor: RemoteActor, number: int, post_url: str, blog_actor: str, published: str | None = None
) -> dict[str, Any]:
    """A reply to the post, shaped like Mastodon 4's Create(Note) (tests/fixtures and shared/samples).

    `published`: written just now unless given, as real replies arrive (a reply written long ago is crawled for
    its own replies at once, a fresh one only minutes later: see federation.backfill_first_crawl_minutes)."""
    status = f"{actor.id}/statuses/{number}"
    published = published or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = {
        "id": status,
        "type": "Note",
        "summary": None,
        "inReplyTo": post_url,
        "published": published,
        "url": f"http://{actor.id.split('/')[2]}/@{actor.username}/{number}",
        "attributedTo": actor.id,
        "to": [PUBLIC],
        "cc": [f"{actor.id}/followers", blog_actor],
        "sensitive": False,
        "content": f"<p>Reply number {number} from {actor.username}: thanks, this was <em>useful</em>.</p>",
        "contentMap": {"en": f"<p>Reply number {number} from {actor.username}: thanks, this was useful.</p>"},
        "tag": [{"type": "Mention", "href": blog_actor, "name": "@bench"}],
        "attachment": [],
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{status}/activity",
        "type": "Create",
        "actor": actor.id,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }
