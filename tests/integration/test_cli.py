"""The real `fedblog` console script (and `python -m fedblog`) run as subprocesses against real site directories."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from fedblog.clock import utcnow
from fedblog.config import load_settings
from fedblog.models import CommentStatus
from fedblog.passwords import verify_password
from fedblog.store.db import available_migrations
from tests.conftest import LiveSite, free_port, make_site
from tests.helpers import FEDBLOG, assert_one_line_error, clean_env, fedblog, run
from tests.integration.blog_support import add_comment, get, publish

POST_MD = """---
title: Written in my editor
slug: from-the-cli
tags: [python, fediverse]
date: 2026-02-21
---
Hello from **the command line**.
"""


def config_of(site: LiveSite) -> str:
    return str(site.settings.root / "fedblog.toml")


# init


async def test_init__creates_config_key_and_migrated_database(tmp_path: Path) -> None:
    password_file = tmp_path / "password.txt"
    password_file.write_text("a long admin password\n")
    site_dir = tmp_path / "blog"
    result = await fedblog(
        "init",
        "--dir",
        str(site_dir),
        "--base-url",
        "https://blog.example",
        "--username",
        "alice",
        "--title",
        "Alice writes",
        "--language",
        "fr",
        "--admin-password-file",
        str(password_file),
    )
    assert result.code == 0, result.err
    assert "Admin password" not in result.out  # it came from the file: nothing to show
    key = site_dir / "keys" / "private.pem"
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key.stat().st_mode & 0o777 == 0o600
    settings = load_settings(site_dir / "fedblog.toml", environ={})
    assert settings.site.base_url == "https://blog.example"
    assert (settings.author.username, settings.site.title, settings.site.language) == ("alice", "Alice writes", "fr")
    assert verify_password(settings.admin.password_hash, "a long admin password")
    with sqlite3.connect(settings.database_path) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert connection.execute("SELECT COUNT(*) FROM posts").fetchone() == (0,)
    assert versions == [version for version, _sql in available_migrations()]


async def test_init__prints_a_generated_password_that_logs_in(tmp_path: Path) -> None:
    result = await fedblog(
        "init", "--dir", str(tmp_path / "blog"), "--base-url", "http://127.0.0.1:9", "--username", "alice"
    )
    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if line.startswith("Admin password (shown once): "))
    password = line.split(": ", 1)[1]
    settings = load_settings(tmp_path / "blog" / "fedblog.toml", environ={})
    assert verify_password(settings.admin.password_hash, password)


async def test_init__refuses_to_overwrite_an_existing_site(tmp_path: Path) -> None:
    site_dir = tmp_path / "blog"
    args = ("init", "--dir", str(site_dir), "--base-url", "http://127.0.0.1:9", "--username", "alice")
    assert (await fedblog(*args)).code == 0
    config, key = (site_dir / "fedblog.toml").read_bytes(), (site_dir / "keys" / "private.pem").read_bytes()
    again = await fedblog(*args)
    assert_one_line_error(again, "refusing to overwrite")
    assert (site_dir / "fedblog.toml").read_bytes() == config
    assert (site_dir / "keys" / "private.pem").read_bytes() == key


async def test_init__bad_base_url_leaves_no_half_made_site(tmp_path: Path) -> None:
    result = await fedblog("init", "--dir", str(tmp_path / "blog"), "--base-url", "ftp://x", "--username", "alice")
    assert_one_line_error(result, "site.base_url")
    assert not (tmp_path / "blog" / "fedblog.toml").exists()


async def test_init__demo_site_has_a_welcome_post_and_a_thread(tmp_path: Path) -> None:
    site_dir = tmp_path / "blog"
    result = await fedblog(
        "init", "--dir", str(site_dir), "--base-url", "http://127.0.0.1:9", "--username", "alice", "--demo"
    )
    assert result.code == 0, result.err
    listing = await fedblog("--config", str(site_dir / "fedblog.toml"), "comments", "list")
    lines = listing.out.splitlines()
    assert len(lines) == 2 and all("approved" in line and "welcome" in line for line in lines)


async def test_hash_password__prints_a_hash_the_login_accepts() -> None:
    result = await fedblog("hash-password", stdin="a brand new password\n")
    assert result.code == 0, result.err
    assert verify_password(result.out.strip(), "a brand new password")
    assert not verify_password(result.out.strip(), "another password")


async def test_hash_password__too_short_is_one_line() -> None:
    assert_one_line_error(await fedblog("hash-password", stdin="short\n"), "at least 8 characters")


# serve + post publish against the running server


@pytest.fixture
async def served_site(tmp_path: Path) -> AsyncIterator[tuple[Path, str]]:
    """`fedblog serve` in its own process (port from $PORT), on a site made like `fedblog init` makes it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = make_site(tmp_path / "served", base_url)
    process = await asyncio.create_subprocess_exec(
        FEDBLOG,
        "--config",
        str(config),
        "serve",
        env=clean_env(PORT=str(port), HOST="127.0.0.1"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):  # wait until it answers (or give up after ~20 s)
                try:
                    async with session.get(base_url + "/") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("fedblog serve did not start")
        yield config, base_url
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == 0  # SIGTERM stops it cleanly


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


async def test_post_publish__prints_the_url_and_the_running_server_shows_it(
    served_site: tuple[Path, str], tmp_path: Path
) -> None:
    config, base_url = served_site
    (tmp_path / "post.md").write_text(POST_MD)
    result = await fedblog("--config", str(config), "post", "publish", str(tmp_path / "post.md"))
    assert result.code == 0, result.err
    assert result.out.strip() == f"{base_url}/posts/from-the-cli"
    status, html = await fetch(result.out.strip())
    assert status == 200
    assert "Written in my editor" in html and "<strong>the command line</strong>" in html
    assert "Written in my editor" in (await fetch(base_url + "/"))[1]


async def test_post_edit_and_delete__show_on_the_running_server_at_once(
    served_site: tuple[Path, str], tmp_path: Path
) -> None:
    config, base_url = served_site
    (tmp_path / "post.md").write_text(POST_MD)
    assert (await fedblog("--config", str(config), "post", "publish", str(tmp_path / "post.md"))).code == 0
    assert "Hello from" in (await fetch(base_url + "/posts/from-the-cli"))[1]  # now cached by the server

    (tmp_path / "edit.md").write_text(POST_MD.replace("Hello from", "Edited from"))
    edited = await fedblog("--config", str(config), "post", "edit", "from-the-cli", str(tmp_path / "edit.md"))
    assert edited.code == 0, edited.err
    status, html = await fetch(base_url + "/posts/from-the-cli")
    assert status == 200 and "Edited from" in html and "Hello from" not in html

    deleted = await fedblog("--config", str(config), "post", "delete", "from-the-cli")
    assert deleted.code == 0 and deleted.out.strip() == "deleted from-the-cli"
    assert (await fetch(base_url + "/posts/from-the-cli"))[0] in (404, 410)


async def test_post_list__shows_published_posts_and_drafts(site: LiveSite) -> None:
    await publish(site, "Out in the open")
    await publish(site, "Still a secret", draft=True)
    result = await fedblog("--config", config_of(site), "post", "list")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert any("published" in line and "out-in-the-open" in line for line in lines)
    assert any("draft" in line and "still-a-secret" in line for line in lines)


async def test_post_publish__draft_front_matter_is_not_public(site: LiveSite, tmp_path: Path) -> None:
    (tmp_path / "draft.md").write_text(POST_MD.replace("date: 2026-02-21", "draft: true"))
    result = await fedblog("--config", config_of(site), "post", "publish", str(tmp_path / "draft.md"))
    assert result.code == 0 and result.out.strip().endswith("(draft)")
    assert (await get(site, "/posts/from-the-cli")).status == 404


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("no front matter\n", ("front matter",)),
        ("---\ntitle: x\nauthor: me\n---\nbody\n", ("unknown key", "author")),
        ("---\ntitle: x\ndate: someday\n---\nbody\n", ("date",)),
        ("---\nslug: x\n---\nbody\n", ("title",)),
        ("---\ntitle: [unclosed\n---\nbody\n", ("line 2", "expected ',' or ']'")),
        ("---\ntitle: Front matter only\n---\n", ("body", "required")),
        ("---\ntitle: Spaces only\n---\n  \n\n", ("body", "required")),
    ],
)
async def test_post_publish__bad_file_is_one_line(site: LiveSite, tmp_path: Path, text: str, words: tuple) -> None:
    (tmp_path / "bad.md").write_text(text)
    result = await fedblog("--config", config_of(site), "post", "publish", str(tmp_path / "bad.md"))
    assert_one_line_error(result, *words)
    assert await site.ctx.posts.list_all() == []


async def test_post_edit__unknown_slug_is_one_line(site: LiveSite, tmp_path: Path) -> None:
    (tmp_path / "post.md").write_text(POST_MD)
    result = await fedblog("--config", config_of(site), "post", "edit", "nope", str(tmp_path / "post.md"))
    assert_one_line_error(result, "nope")


# comments


async def test_comments_list__filters_by_status(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    await add_comment(site, post, "Visible words", name="Ana", email="ana@example.org")
    await add_comment(site, post, "Held words", name="Bo", email="bo@example.org", approve=False)
    everything = await fedblog("--config", config_of(site), "comments", "list")
    assert "Visible words" in everything.out and "Held words" in everything.out
    pending = await fedblog("--config", config_of(site), "comments", "list", "--status", "pending")
    assert pending.code == 0
    assert "Held words" in pending.out and "Visible words" not in pending.out
    assert "bo@example.org" in pending.out


async def test_comments_approve__shows_on_the_running_site_at_once(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    comment = await add_comment(site, post, "Waiting for the author", approve=False)
    assert "Waiting for the author" not in (await get(site, "/posts/hello")).text
    result = await fedblog("--config", config_of(site), "comments", "approve", str(comment.id))
    assert result.code == 0 and result.out.strip() == f"comment {comment.id}: approved"
    assert "Waiting for the author" in (await get(site, "/posts/hello")).text


async def test_comments_spam__hides_it_from_the_running_site(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    comment = await add_comment(site, post, "Cheap pills")
    assert "Cheap pills" in (await get(site, "/posts/hello")).text
    result = await fedblog("--config", config_of(site), "comments", "spam", str(comment.id))
    assert result.code == 0 and result.out.strip() == f"comment {comment.id}: spam"
    assert "Cheap pills" not in (await get(site, "/posts/hello")).text
    stored = await site.ctx.comments.get_comment(comment.id)
    assert stored is not None and stored.status == CommentStatus.SPAM


async def test_comments_delete__removes_it(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    comment = await add_comment(site, post, "Gone soon")
    result = await fedblog("--config", config_of(site), "comments", "delete", str(comment.id))
    assert result.code == 0 and result.out.strip() == f"comment {comment.id}: deleted"
    assert "Gone soon" not in (await get(site, "/posts/hello")).text
    assert await site.ctx.comments.get_comment(comment.id) is None


async def test_comments_approve__unknown_id_is_one_line(site: LiveSite) -> None:
    result = await fedblog("--config", config_of(site), "comments", "approve", "4242")
    assert_one_line_error(result, "4242")


# python -m fedblog and configuration errors


async def test_python_m_fedblog__runs_the_same_cli(site: LiveSite) -> None:
    await publish(site, "Via python -m")
    result = await run(sys.executable, "-m", "fedblog", "--config", config_of(site), "post", "list")
    assert result.code == 0, result.err
    assert "via-python-m" in result.out


async def test_config_from_fedblog_config_environment_variable(site: LiveSite) -> None:
    await publish(site, "Found by env")
    result = await fedblog("post", "list", env=clean_env(FEDBLOG_CONFIG=config_of(site)))
    assert result.code == 0 and "found-by-env" in result.out


def break_config(directory: Path, problem: str) -> tuple[Path, dict[str, str]]:
    """A site directory with one configuration problem; returns the config path and the environment."""
    config = make_site(directory, "http://127.0.0.1:9")
    env = clean_env()
    text = config.read_text()
    if problem == "unknown key":
        config.write_text(text.replace("[site]\n", '[site]\ncolour = "blue"\n'))
    elif problem == "bad value":
        config.write_text(text.replace('language = "en"', 'language = "de"'))
    elif problem == "bad type":
        config.write_text(text.replace("posts_per_page = 10", 'posts_per_page = "ten"'))
    elif problem == "bad environment":
        env["FEDBLOG_COMMENTS_MODERATION"] = "sometimes"
    elif problem == "missing file":
        config.unlink()
    elif problem == "open key":
        (directory / "keys" / "private.pem").chmod(0o644)
    elif problem == "missing key":
        (directory / "keys" / "private.pem").unlink()
    elif problem == "database folder":
        env["FEDBLOG_DATABASE_PATH"] = str(directory / "no" / "such" / "folder" / "db.sqlite3")
    elif problem == "bad toml":
        config.write_text(text + "\n[site\n")
    elif problem == "unknown environment variable":
        env["FEDBLOG_SITE_LANGUAGEE"] = "fr"
    return config, env


@pytest.mark.parametrize(
    ("problem", "words"),
    [
        ("unknown key", ("site.colour", "unknown key")),
        ("bad value", ("site.language", "'de'")),
        ("bad type", ("site.posts_per_page",)),
        ("bad environment", ("comments.moderation", "sometimes")),
        ("missing file", ("not found",)),
        ("open key", ("readable by others", "644")),
        ("missing key", ("keys", "missing")),
        # A SQLite file's folder: a site on PostgreSQL has its database.url, which wins over database.path
        pytest.param("database folder", ("database.path",), marks=pytest.mark.sqlite_only),
        ("bad toml", ("not valid TOML",)),
        ("unknown environment variable", ("FEDBLOG_SITE_LANGUAGEE", "did you mean FEDBLOG_SITE_LANGUAGE")),
    ],
)
async def test_config_errors__one_clear_line_and_nonzero_exit(tmp_path: Path, problem: str, words: tuple) -> None:
    config, env = break_config(tmp_path / "site", problem)
    result = await fedblog("--config", str(config), "post", "list", env=env)
    assert_one_line_error(result, *words)
    assert result.out == ""


async def test_serve__bad_config_is_one_line_too(tmp_path: Path) -> None:
    config, env = break_config(tmp_path / "site", "bad value")
    result = await fedblog("--config", str(config), "serve", "--port", str(free_port()), env=env)
    assert_one_line_error(result, "site.language")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (("--port", "99999"), ("--port", "1 to 65535", "99999")),
        (("--port", "-1"), ("--port", "1 to 65535", "-1")),
        (("--port", "http"), ("--port", "'http'")),
        (("--host", "192.0.2.1", "--port", "PORT"), ("cannot listen on 192.0.2.1",)),
        (("--host", "no-such-host.invalid", "--port", "PORT"), ("cannot listen on no-such-host.invalid",)),
    ],
)
async def test_serve__a_port_or_host_it_cannot_use_is_one_line_and_exit_2(
    tmp_path: Path, options: tuple[str, ...], words: tuple[str, ...]
) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: binding it fails without sending anything anywhere.
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    options = tuple(str(free_port()) if option == "PORT" else option for option in options)
    result = await fedblog("--config", str(config), "serve", *options)
    assert_one_line_error(result, *words)
    assert result.code == 2
    assert "asyncio" not in result.err and "Exception" not in result.err


async def test_serve__a_bad_port_variable_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    result = await fedblog("--config", str(config), "serve", env=clean_env(PORT="0"))
    assert_one_line_error(result, "PORT", "'0'")
    assert result.code == 2


async def fill_listings(site: LiveSite, count: int) -> None:
    """More than a pipe buffer (64 KiB) of lines in each listing, so that the writer meets the closed pipe.
    Written through the running site's own connection (its write path), so no second writer waits on a lock."""
    when = "2026-01-01T00:00:00+00:00"
    async with site.ctx.db.transaction() as db:
        await db.executemany(
            "INSERT INTO posts (slug, title, body_markdown, body_html, language, published_at, created_at) "
            "VALUES (?, ?, 'b', '<p>b</p>', 'en', ?, ?)",
            [(f"post-{i}", f"A title long enough to fill a pipe, number {i}", when, when) for i in range(count)],
        )
        await db.execute(
            "INSERT INTO comment_authors (id, kind, name, created_at) VALUES (1, 'visitor', 'Ana', ?)", (when,)
        )
        await db.executemany(
            "INSERT INTO comments (post_id, author_id, origin, status, content_html, created_at) "
            "VALUES (1, 1, 'web', 'approved', ?, ?)",
            [(f"<p>A comment long enough to fill a pipe quickly, number {i}</p>", when) for i in range(count)],
        )
        await db.executemany(
            "INSERT INTO followers (actor_id, inbox, handle, follow_activity_id, follow_json, status, created_at) "
            "VALUES (?, ?, ?, ?, '{}', 'accepted', ?)",
            [
                (f"https://remote.test/users/u{i}", "https://remote.test/inbox", f"@u{i}@remote.test", f"f{i}", when)
                for i in range(count)
            ],
        )


async def test_listings__piped_to_a_reader_that_stops_early_exit_quietly(site: LiveSite) -> None:
    await fill_listings(site, 1500)
    for command in (("post", "list"), ("comments", "list"), ("followers", "list")):
        # `fedblog … | head -1`, with fedblog's own exit status and error output.
        pipeline = '"$@" | head -1; exit "${PIPESTATUS[0]}"'
        result = await run("bash", "-c", pipeline, "sh", FEDBLOG, "--config", config_of(site), *command)
        assert len(result.out.splitlines()) == 1
        assert result.err == "", result.err
        assert result.code == 0


async def test_post_publish__a_future_date_schedules_and_post_list_shows_the_state(
    site: LiveSite, tmp_path: Path
) -> None:
    later = (utcnow() + timedelta(days=2)).replace(second=0)
    (tmp_path / "later.md").write_text(POST_MD.replace("date: 2026-02-21", f"date: {later.isoformat()}"))
    await publish(site, "Out already")
    await publish(site, "Not yet", draft=True)
    result = await fedblog("--config", config_of(site), "post", "publish", str(tmp_path / "later.md"))
    assert result.code == 0, result.err
    assert result.out.strip().endswith(f"(scheduled for {later.strftime('%Y-%m-%dT%H:%M')}:00Z)")
    assert (await get(site, "/posts/from-the-cli")).status == 404
    listing = (await fedblog("--config", config_of(site), "post", "list")).out.splitlines()
    [scheduled] = [line for line in listing if "from-the-cli" in line]
    assert scheduled.startswith(later.strftime("%Y-%m-%d %H:%M")) and " scheduled " in scheduled
    assert any(" published " in line and "out-already" in line for line in listing)
    assert any(" draft " in line and "not-yet" in line for line in listing)


async def test_post_unpublish__back_to_draft_and_its_address_answers_410(site: LiveSite) -> None:
    await publish(site, "Spoke too soon")
    result = await fedblog("--config", config_of(site), "post", "unpublish", "spoke-too-soon")
    assert result.code == 0 and result.out.startswith("unpublished spoke-too-soon"), result.err
    assert (await get(site, "/posts/spoke-too-soon")).status == 410
    again = await fedblog("--config", config_of(site), "post", "unpublish", "spoke-too-soon")
    assert_one_line_error(again, "not published")
