"""`fedblog db copy --to postgresql://…` on the tests' private PostgreSQL cluster: a SQLite site copied whole (ids
kept, counts checked), after which the site runs on PostgreSQL with every URL, activity id and key unchanged and
new rows get new ids; a target that is not empty is refused with nothing changed."""

from __future__ import annotations

import io
import json

import aiohttp
from aiohttp import web

from fedblog.app import create_app
from fedblog.cli.database import ProgressBar
from fedblog.services.comments import CommentService
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests import postgres
from tests.conftest import LiveSite, SiteFactory, free_port, settings_toml, settings_with
from tests.helpers import FEDBLOG, assert_one_line_error, run
from tests.integration.blog_support import new_session, submit_comment

AS2 = "application/activity+json"
# SQLite whatever backend the suite runs on (the source of the copy); comments published as they come.
ON_SQLITE = {"database": {"url": "sqlite:///fedblog.sqlite3"}, "comments": {"moderation": "open"}}
TABLES_COUNTED = ("posts", "post_tags", "comments", "comment_authors", "followers", "deliveries", "outbox")


async def fetch(site_url: str, served_at: str, path: str, accept: str = "text/html") -> tuple[int, str]:
    headers = {"Accept": accept}
    async with (
        aiohttp.ClientSession() as session,
        session.get(served_at + path, headers=headers, allow_redirects=False) as response,
    ):
        text = await response.text()
    return response.status, text.replace(served_at, site_url)


async def counts(site: LiveSite) -> dict[str, int]:
    return {name: await site.ctx.db.fetch_value(f"SELECT COUNT(*) FROM {name}") for name in TABLES_COUNTED}


async def fill(site: LiveSite) -> None:
    """Posts with tags, a follower (so deliveries are queued), comments with a reply."""
    async with site.ctx.db.transaction() as conn:
        await FollowerStore(site.ctx.db).upsert(
            conn, actor_id="http://127.0.0.1:9/users/reader", inbox="http://127.0.0.1:9/users/reader/inbox",
            shared_inbox=None, handle=None, name="reader", follow_activity_id="http://127.0.0.1:9/follows/1",
            follow_json="{}", status="accepted",
        )  # fmt: skip
    posts = PostService(site.ctx)
    first = await posts.publish(PostInput(title="Moving day", body_markdown="Boxes *everywhere*.", tags=("home",)))
    await posts.publish(PostInput(title="Settled", body_markdown="All unpacked.", tags=("home", "calm")))
    async with new_session() as session:
        sent = await submit_comment(site, first.slug, session, name="Dominique", email="dom@example.org",
                                    message="Good luck!")  # fmt: skip
        assert sent.status == 303
    [top] = await site.ctx.comments.list_visible_for_post(first.id)
    await CommentService(site.ctx).reply_as_author(top.id, "Thanks!")


async def test_db_copy__the_site_runs_on_postgresql_with_every_url_id_and_key_unchanged(
    site_factory: SiteFactory,
) -> None:
    site = await site_factory(overrides=ON_SQLITE)
    await fill(site)
    paths = [
        ("/posts/moving-day", "text/html"),
        ("/posts/moving-day", AS2),
        ("/actor", AS2),
        ("/actor/outbox?page=1", AS2),
    ]
    before = [await fetch(site.url, site.url, path, accept) for path, accept in paths]
    counted = await counts(site)
    await site.runner.cleanup()  # the site stopped, as DEPLOY.md says

    # When the SQLite database is copied to an empty PostgreSQL database
    url = postgres.cluster().fresh_database()
    config = site.settings.root / "fedblog.toml"
    copied = await run(FEDBLOG, "--config", str(config), "db", "copy", "--to", url)
    assert copied.code == 0, copied.err
    assert "counts checked per table" in copied.out
    assert copied.err == ""  # no progress bar when the output is not a terminal

    # Then the site, on PostgreSQL, serves the same pages and documents (ids, URLs and key unchanged)
    on_postgresql = settings_with(site.settings, {"database": {"url": url}})
    config.write_text(settings_toml(on_postgresql), encoding="utf-8")
    runner = web.AppRunner(create_app(on_postgresql, background=False), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    moved = LiveSite(on_postgresql, runner, port)
    try:
        assert moved.ctx.db.dialect == "postgresql"
        served_at = f"http://127.0.0.1:{port}"
        after = [await fetch(site.url, served_at, path, accept) for path, accept in paths]
        for (path, accept), (status, text), (status_before, text_before) in zip(paths, after, before, strict=True):
            assert status == status_before == 200, path
            if accept == "text/html":
                assert "Good luck!" in text and "Thanks!" in text
                assert _comment_anchors(text) == _comment_anchors(text_before)
            else:
                assert json.loads(text) == json.loads(text_before), path
        assert await counts(moved) == counted
        # PostgreSQL's own search finds the copied posts (its search document is derived, not copied)
        status, found = await fetch(site.url, served_at, "/search?q=boxes")
        assert status == 200 and "Moving day" in found
        # And new rows get new ids, after the copied ones
        newest = await moved.ctx.db.fetch_value("SELECT MAX(id) FROM posts")
        post = await PostService(moved.ctx).publish(PostInput(title="On PostgreSQL now", body_markdown="Hello."))
        assert post.id == newest + 1
    finally:
        await runner.cleanup()


async def test_db_copy__a_target_that_is_not_empty_is_refused(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=ON_SQLITE)
    await fill(site)
    await site.runner.cleanup()
    url = postgres.cluster().fresh_database()
    config = site.settings.root / "fedblog.toml"
    assert (await run(FEDBLOG, "--config", str(config), "db", "copy", "--to", url)).code == 0
    postgres.cluster().sql("UPDATE posts SET title = 'changed on PostgreSQL'", database=url.rsplit("/", 1)[1])

    again = await run(FEDBLOG, "--config", str(config), "db", "copy", "--to", url)

    assert again.code == 1
    assert "the PostgreSQL database is not empty" in again.err and "Traceback" not in again.err
    titles = postgres.cluster().sql("SELECT DISTINCT title FROM posts", database=url.rsplit("/", 1)[1])
    assert titles.split() == ["changed", "on", "PostgreSQL"]


def test_progress_bar__one_bar_per_table_on_a_terminal_nothing_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for out in (terminal, pipe):
        bar = ProgressBar(out)
        for done in (0, 500, 1000):
            bar("comments", done, 1000)
        bar("posts", 0, 0)
    lines = terminal.getvalue().split("\n")
    assert lines[0].endswith("comments                 [" + "#" * 30 + "] 1,000/1,000")
    assert "[" + "#" * 15 + "." * 15 + "] 500/1,000" in lines[0]
    assert lines[1] == "\rposts                    [" + "#" * 30 + "] 0/0"
    assert pipe.getvalue() == ""


def _comment_anchors(page: str) -> list[str]:
    return sorted(part.split('"', 1)[0] for part in page.split('id="comment-')[1:])


async def test_db_copy__a_wrong_target_is_one_line_naming_it_and_no_password(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides=ON_SQLITE)
    await site.runner.cleanup()
    config = str(site.settings.root / "fedblog.toml")
    assert_one_line_error(await run(FEDBLOG, "--config", config, "db", "copy", "--to", "mysql://x/y"), "postgresql://")
    unreachable = f"postgresql://fedblog:s3cret@127.0.0.1:{free_port()}/fedblog"
    result = await run(FEDBLOG, "--config", config, "db", "copy", "--to", unreachable)
    assert_one_line_error(result, "unreachable", "fedblog:***@")
    assert "s3cret" not in result.err
