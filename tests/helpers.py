"""Helpers shared by the test modules: waiting for background work, reading a thread off a page, logging in,
running the console script, signing like Fedify. One definition each; test modules import them from here."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedblog.context import Context
from fedblog.models import Comment, Post
from fedblog.services.delivery import DeliveryWorker
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests.conftest import ADMIN_PASSWORD, LiveSite
from tests.fakes.remote import RemoteInstance

ADMIN_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY_ID = "https://remote.example/users/alice#main-key"
FEDBLOG = str(Path(sys.executable).parent / "fedblog")
WAIT_SECONDS = 20.0


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll until `check` returns something truthy (background work); fail with `what` after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not true after {timeout:.0f} s")
        await asyncio.sleep(0.05)


class ThreadParser(HTMLParser):
    """For each <article id="comment-N">, the comment it is nested under on the page (None at the top)."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[list[object]] = []
        self.parents: dict[int, int | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.stack.append([tag, None])
        element_id = dict(attrs).get("id") or ""
        if tag == "article" and element_id.startswith("comment-") and element_id[8:].isdigit():
            comment_id = int(element_id[8:])
            items = [entry for entry in self.stack if entry[0] == "li"]
            own = next((entry for entry in reversed(items) if entry[1] is None), None)
            if own is not None:
                own[1] = comment_id
            enclosing = [entry[1] for entry in items if entry is not own and entry[1] is not None]
            self.parents[comment_id] = enclosing[-1] if enclosing else None  # type: ignore[assignment]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def thread_parents(html: str) -> dict[int, int | None]:
    parser = ThreadParser()
    parser.feed(html)
    return parser.parents


async def log_in(
    site: Any,
    session: aiohttp.ClientSession,
    password: str = ADMIN_PASSWORD,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> Any:
    from tests.integration.blog_support import post_form  # blog_support imports the conftest's fixtures

    return await post_form(site, "/admin/login", {"password": password, **extra}, session, headers=headers or {})


@dataclass
class Result:
    code: int
    out: str
    err: str


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FEDBLOG_")}
    env.pop("HOST", None)
    env.pop("PORT", None)
    return env | extra


async def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env=env or clean_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


def rfc9421_sign(
    key: rsa.RSAPrivateKey, method: str, url: str, body: bytes | None, created: int, key_id: str = KEY_ID
) -> dict[str, str]:
    """A small RFC 9421 signer shaped like Fedify's: @method @target-uri @authority content-type content-digest."""
    authority = url.split("/")[2]
    headers = {"Host": authority, "Content-Type": "application/activity+json"}
    components = ["@method", "@target-uri", "@authority", "content-type"]
    values = {"@method": method, "@target-uri": url, "@authority": authority, "content-type": headers["Content-Type"]}
    if body is not None:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        headers["Content-Digest"] = f"sha-256=:{digest}:"
        components.append("content-digest")
        values["content-digest"] = headers["Content-Digest"]
    params = (
        "("
        + " ".join(f'"{c}"' for c in components)
        + ")"
        + f';alg="rsa-v1_5-sha256";keyid="{key_id}";created={created}'
    )
    base = "".join(f'"{c}": {values[c]}\n' for c in components) + f'"@signature-params": {params}'
    signature = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["Signature-Input"] = f"sig1={params}"
    headers["Signature"] = f"sig1=:{signature}:"
    return headers


# --- fedblog as real processes (serve, worker, the CLI) ----------------------------------------------------


@contextlib.asynccontextmanager
async def started(*args: str, env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """A fedblog process; on leaving, SIGTERM and a bounded wait for it to exit."""
    process = await asyncio.create_subprocess_exec(
        FEDBLOG, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


async def wait_for_health(base_url: str) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for _ in range(300):  # ~30 s at most
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(base_url + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    pytest.fail("fedblog serve did not start")


async def queue_line(config: Path) -> str:
    result = await run(FEDBLOG, "--config", str(config), "queue", "status")
    assert result.code == 0, result.err
    return result.out.splitlines()[0]


async def publish(site: LiveSite, title: str = "Hello world", body: str = "What do you think?") -> Post:
    return await PostService(site.ctx).publish(PostInput(title=title, body_markdown=body))


async def page(site: LiveSite, post: Post) -> str:
    """The post's page as a visitor gets it."""
    async with aiohttp.ClientSession() as session, session.get(site.ctx.urls.post(post.slug)) as response:
        assert response.status == 200
        return await response.text()


async def deliver_all(site: LiveSite) -> None:
    """Run the delivery worker until the queue is empty (no waiting on timers)."""
    await DeliveryWorker(site.ctx).run_once()


def assert_one_line_error(result: Result, *words: str) -> None:
    """A command that failed as fedblog fails on bad input: one line on stderr naming what is wrong."""
    assert result.code != 0
    assert "Traceback" not in result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    for word in words:
        assert word in lines[0]


# --- the blog and a remote instance --------------------------------------------------------------------------


async def add_follower(ctx: Context, remote: RemoteInstance, name: str) -> None:
    """`name` on `remote` follows the blog (accepted), as if its Follow had come in."""
    async with ctx.db.transaction() as conn:
        await FollowerStore(ctx.db).upsert(
            conn,
            actor_id=remote.actor_id(name),
            inbox=remote.inbox(name),
            shared_inbox=f"{remote.base}/inbox" if remote.shared_inbox else None,
            handle=f"@{name}@{remote.host}",
            name=name,
            follow_activity_id=f"{remote.base}/follows/{name}",
            follow_json="{}",
            status="accepted",
        )


async def fediverse_comment(
    site: LiveSite, remote: RemoteInstance, post: Post, text: str = "<p>Question?</p>"
) -> Comment:
    note = remote.note("alice", site.ctx.urls.note(post.slug), text)
    await remote.send("alice", remote.create("alice", note))
    comment = await site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert comment is not None
    return comment


async def received(remote: RemoteInstance, kind: str, what: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        for delivery in remote.received:
            if delivery.activity.get("type") == kind:
                assert delivery.verified, delivery.reason  # signed with the blog's key, verified here
                return delivery.activity
        return None

    found: dict[str, Any] = await eventually(check, what)
    return found


async def fedblog(*args: str, **kwargs: object) -> Result:
    """The `fedblog` command, run as a person runs it."""
    return await run(FEDBLOG, *args, **kwargs)  # type: ignore[arg-type]
