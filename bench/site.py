"""The benchmarked site: made by the real `fedblog init`, then filled through fedblog's own services and stores.

Posts go through PostService (as the admin would publish them), comments and followers through the store layer
in one transaction each, so that seeding 10,000 rows takes a second instead of 10,000 HTTP round trips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.hosts import host_address
from bench.procs import REPO_ROOT
from fedblog.assembly import open_context
from fedblog.config import load_settings
from fedblog.context import Context
from fedblog.models import CommentOrigin, CommentStatus
from fedblog.services.posts import PostInput, PostService
from fedblog.store.comments import NewComment
from fedblog.store.followers import ACCEPTED, FollowerStore

ADMIN_PASSWORD = "bench-admin-password"
USERNAME = "bench"
# The bench site may talk to loopback peers (sinks, key servers); everything else is the default config.
SITE_ENV = {"FEDBLOG_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "true"}
COMMENT_HTML = (
    "<p>Thanks for this post. I tried the same setup on a small server last winter and ran into the "
    "exact problem you describe with the delivery queue; the backoff schedule you chose is close to what "
    "Mastodon does, which makes interop easier to reason about.</p><p>One question: how do you handle a "
    "follower whose server answers 410 after a migration? Reply #{n}.</p>"
)
POST_MARKDOWN = "\n\n".join(
    [
        "This post is part of the benchmark site. It has a few paragraphs, a list and a link, like a real post.",
        "- one item\n- another item with *emphasis*\n- a third with `code`",
        "A [link to the archive](/archive) and some more text so that the page has a realistic size. " * 4,
    ]
)


@dataclass(frozen=True)
class BenchSite:
    directory: Path
    config: Path
    port: int
    # The site on PostgreSQL (FEDBLOG_DATABASE_URL) rather than its SQLite file, when set (bench/backends.py).
    database_url: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key_path(self) -> Path:
        return self.directory / "keys" / "private.pem"

    def child_env(self) -> dict[str, str]:
        """What fedblog's processes get on top of the driver's environment."""
        return {**SITE_ENV, **({"FEDBLOG_DATABASE_URL": self.database_url} if self.database_url else {})}

    def environ(self) -> dict[str, str]:
        return {**os.environ, **self.child_env()}


def create_site(directory: Path, port: int) -> BenchSite:
    """`fedblog init` in a fresh directory, as an author would run it."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    password_file = directory.parent / "admin-password"
    password_file.write_text(ADMIN_PASSWORD, encoding="utf-8")
    base_url = f"http://127.0.0.1:{port}"
    subprocess.run(
        [sys.executable, "-m", "fedblog", "init", "--dir", str(directory), "--base-url", base_url,
         "--username", USERNAME, "--title", "Benchmark blog", "--admin-password-file", str(password_file)],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )  # fmt: skip
    return BenchSite(directory, directory / "fedblog.toml", port)


@asynccontextmanager
async def site_context(site: BenchSite) -> AsyncIterator[Context]:
    """The same Context `fedblog serve` and the CLI open, for seeding from the driver."""
    settings = load_settings(site.config, environ=site.environ())
    async with open_context(settings) as ctx:
        yield ctx


async def publish_post(ctx: Context, slug: str, title: str) -> str:
    """Publish through PostService, exactly as the admin does; returns the post's URL."""
    post = await PostService(ctx).publish(
        PostInput(title=title, body_markdown=POST_MARKDOWN, slug=slug, tags=("bench", "fediverse"))
    )
    return ctx.urls.post(post.slug)


async def add_comments(ctx: Context, slug: str, count: int, start: int = 0) -> None:
    """`count` approved comments on a post: two thirds from web visitors, one third from fediverse accounts,
    every fourth a reply to the comment before it, so the page shows a real nested thread."""
    post = await ctx.posts.get_post_by_slug(slug)
    assert post is not None, slug
    store = ctx.comments
    async with ctx.db.transaction() as conn:
        previous: int | None = None
        for n in range(start, start + count):
            if n % 3 == 2:
                author = await store.upsert_remote_author(
                    conn,
                    f"http://127.30.0.{n % 50 + 1}/users/reader{n % 50}",
                    f"Remote reader {n % 50}",
                    f"reader{n % 50}@127.30.0.{n % 50 + 1}",
                    None,
                    f"http://127.30.0.{n % 50 + 1}/@reader{n % 50}",
                )
                origin, remote_id = CommentOrigin.FEDIVERSE, f"http://127.30.0.{n % 50 + 1}/statuses/{slug}-{n}"
            else:
                author = await store.get_or_create_visitor(
                    conn, f"Visitor {n % 50}", f"visitor{n % 50}@example.org", None
                )
                origin, remote_id = CommentOrigin.WEB, None
            comment_id = await store.insert_comment(
                conn,
                NewComment(
                    post_id=post.id,
                    parent_id=previous if n % 4 == 3 else None,
                    author_id=author,
                    origin=origin,
                    status=CommentStatus.APPROVED,
                    content_html=COMMENT_HTML.format(n=n),
                    remote_id=remote_id,
                ),
            )
            previous = comment_id


def follower_rows(followers: int, hosts: int, port: int) -> list[dict[str, str]]:
    rows = []
    for n in range(followers):
        base = f"http://{host_address(n % hosts)}:{port}"
        actor = f"{base}/users/f{n}"
        follow = {"id": f"{actor}#follows/1", "type": "Follow", "actor": actor, "object": "bench"}
        rows.append(
            {
                "actor_id": actor,
                "inbox": f"{actor}/inbox",
                "shared_inbox": f"{base}/inbox",
                "handle": f"f{n}@{host_address(n % hosts)}",
                "name": f"Follower {n}",
                "follow_activity_id": follow["id"],
                "follow_json": json.dumps(follow),
            }
        )
    return rows


async def replace_followers(ctx: Context, followers: int, hosts: int, port: int) -> list[str]:
    """Make the followers table exactly `followers` accepted followers spread over `hosts` servers;
    returns the distinct shared inboxes fedblog should deliver to."""
    store = FollowerStore(ctx.db)
    async with ctx.db.transaction() as conn:
        while existing := await store.list_by_status(None, limit=5_000):
            for follower in existing:
                await store.remove(conn, follower.actor_id)
            if len(existing) < 5_000:
                break
        for row in follower_rows(followers, hosts, port):
            await store.upsert(conn, **row, status=ACCEPTED)
    return sorted({row["shared_inbox"] for row in follower_rows(min(followers, hosts), hosts, port)})
