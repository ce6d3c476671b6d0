"""`fedblog backup` while the site serves, and `fedblog restore` into another site folder: the posts, comments, key
(with its mode) and media come back; a site that has a database is not overwritten without --force."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

import pytest

from fedblog.config import load_settings
from tests.conftest import LiveSite, make_site
from tests.helpers import FEDBLOG, Result, assert_one_line_error, clean_env, run
from tests.integration.blog_support import add_comment, publish


async def fedblog_at(config: Path, *args: str) -> Result:
    return await run(FEDBLOG, "--config", str(config), *args, env=clean_env())


@pytest.mark.sqlite_only  # the same on PostgreSQL: tests/integration/test_backup_postgresql.py
async def test_backup_while_serving_then_restore_elsewhere(site: LiveSite, tmp_path: Path) -> None:
    # Given a serving blog with a post, an approved comment and an uploaded file
    post = await publish(site, "Kept in the backup", "The body that must survive.")
    await add_comment(site, post, "A comment that must survive too.")
    media = site.settings.media_path
    media.mkdir(parents=True, exist_ok=True)
    (media / "picture.webp").write_bytes(b"RIFF....WEBPVP8 ")
    config = site.settings.root / "fedblog.toml"
    backup = tmp_path / "blog-backup.tar.gz"
    # When the operator backs it up while it serves
    result = await fedblog_at(config, "backup", str(backup))
    assert result.code == 0, result.err
    assert "keys/private.pem" in result.out
    # Then the file is private (it holds the key) and so is the key inside it
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with tarfile.open(backup) as archive:
        assert stat.S_IMODE(archive.getmember("keys/private.pem").mode) == 0o600
    # And restored into a fresh site folder (same public URL), the blog serves the same post and comment
    other = make_site(tmp_path / "restored", site.url)
    (other.parent / "keys" / "private.pem").unlink()
    result = await fedblog_at(other, "restore", str(backup))
    assert result.code == 0, result.err
    restored_key = other.parent / "keys" / "private.pem"
    assert restored_key.read_bytes() == site.settings.key_path.read_bytes()
    assert stat.S_IMODE(restored_key.stat().st_mode) == 0o600
    restored = load_settings(other, environ={})
    assert (restored.media_path / "picture.webp").read_bytes() == b"RIFF....WEBPVP8 "
    listing = await fedblog_at(other, "post", "list")
    assert "Kept in the backup" in listing.out, listing.err
    comments = await fedblog_at(other, "comments", "list")
    assert "A comment that must survive too." in comments.out, comments.err
    # A second restore onto the site, which now has a database, is refused and changes nothing
    before = restored.database_path.read_bytes()
    assert_one_line_error(await fedblog_at(other, "restore", str(backup)), "already has a database", "--force")
    assert restored.database_path.read_bytes() == before
    # --force replaces it
    result = await fedblog_at(other, "restore", "--force", str(backup))
    assert result.code == 0, result.err
    assert "Kept in the backup" in (await fedblog_at(other, "post", "list")).out


async def test_restore__a_file_that_is_not_a_backup_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file at all")
    assert_one_line_error(await fedblog_at(config, "restore", str(junk)), "not a readable fedblog backup")
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    assert_one_line_error(await fedblog_at(config, "restore", str(empty)), "no database.sqlite3")
    assert not (tmp_path / "site" / "fedblog.sqlite3").exists()
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["fedblog.toml", "keys"]  # no leftovers
