"""`fedblog backup` and `fedblog restore` of a site on PostgreSQL (the tests' private cluster): pg_dump's custom
format in the archive with the keys (their modes) and media; restore into an empty database, refused onto one that
holds rows unless --force, in one transaction; a backup of the other backend is one line of error."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

from fedblog.config import load_settings
from tests import postgres
from tests.conftest import LiveSite, SiteFactory, make_site
from tests.helpers import FEDBLOG, Result, assert_one_line_error, clean_env, run
from tests.integration.blog_support import add_comment, publish


async def fedblog_at(config: Path, *args: str) -> Result:
    return await run(FEDBLOG, "--config", str(config), *args, env=clean_env())


def on_postgresql(directory: Path, base_url: str, url: str) -> Path:
    return make_site(directory, base_url, overrides={"database": {"url": url}})


async def test_backup_on_postgresql_while_serving_then_restore_into_an_empty_database(
    site_factory: SiteFactory, tmp_path: Path
) -> None:
    # Given a blog serving on PostgreSQL with a post, an approved comment and an uploaded file
    site: LiveSite = await site_factory(overrides={"database": {"url": postgres.cluster().fresh_database()}})
    assert site.ctx.db.dialect == "postgresql"
    post = await publish(site, "Kept in the dump", "The body that must survive.")
    await add_comment(site, post, "A comment that must survive too.")
    media = site.settings.media_path
    media.mkdir(parents=True, exist_ok=True)
    (media / "picture.webp").write_bytes(b"RIFF....WEBPVP8 ")
    backup = tmp_path / "blog-backup.tar.gz"
    # When the operator backs it up while it serves
    result = await fedblog_at(site.settings.root / "fedblog.toml", "backup", str(backup))
    assert result.code == 0, result.err
    # Then the archive holds pg_dump's custom format and the key, private
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with tarfile.open(backup) as archive:
        assert archive.getnames()[0] == "database.pgdump"
        dump = archive.extractfile("database.pgdump")
        assert dump is not None and dump.read(5) == b"PGDMP"
        assert stat.S_IMODE(archive.getmember("keys/private.pem").mode) == 0o600

    # And restored onto another site whose database was made by `fedblog migrate` (tables, no rows)
    other = on_postgresql(tmp_path / "restored", site.url, postgres.cluster().fresh_database())
    (other.parent / "keys" / "private.pem").unlink()
    result = await fedblog_at(other, "restore", str(backup))
    assert result.code == 0, result.err
    restored_key = other.parent / "keys" / "private.pem"
    assert restored_key.read_bytes() == site.settings.key_path.read_bytes()
    assert stat.S_IMODE(restored_key.stat().st_mode) == 0o600
    assert (load_settings(other, environ={}).media_path / "picture.webp").read_bytes() == b"RIFF....WEBPVP8 "
    assert "Kept in the dump" in (await fedblog_at(other, "post", "list")).out
    assert "A comment that must survive too." in (await fedblog_at(other, "comments", "list")).out
    # The restored database takes new rows (its identities continue after the restored ids)
    publish_md = tmp_path / "new.md"
    publish_md.write_text("---\ntitle: After the restore\nslug: after\n---\nNew.\n")
    assert (await fedblog_at(other, "post", "publish", str(publish_md))).code == 0

    # A second restore onto it, which now holds rows, is refused and changes nothing
    assert_one_line_error(await fedblog_at(other, "restore", str(backup)), "already has rows", "--force")
    assert "After the restore" in (await fedblog_at(other, "post", "list")).out
    # --force replaces it, in one transaction
    result = await fedblog_at(other, "restore", "--force", str(backup))
    assert result.code == 0, result.err
    listing = (await fedblog_at(other, "post", "list")).out
    assert "Kept in the dump" in listing and "After the restore" not in listing


async def test_restore__a_backup_of_the_other_backend_is_one_line_and_changes_nothing(
    site_factory: SiteFactory, tmp_path: Path
) -> None:
    site: LiveSite = await site_factory(overrides={"database": {"url": "sqlite:///fedblog.sqlite3"}})
    await publish(site, "On SQLite", "Body.")
    backup = tmp_path / "sqlite-backup.tar.gz"
    assert (await fedblog_at(site.settings.root / "fedblog.toml", "backup", str(backup))).code == 0
    url = postgres.cluster().fresh_database()
    config = on_postgresql(tmp_path / "pg", site.url, url)
    assert_one_line_error(await fedblog_at(config, "restore", str(backup)), "holds a SQLite database", "db copy")
    assert postgres.cluster().sql("SELECT COUNT(*) FROM posts", database=url.rsplit("/", 1)[1]).strip() == "0"


async def test_backup__without_pg_dump_is_one_line_naming_the_package_and_writes_nothing(tmp_path: Path) -> None:
    # Given a site on PostgreSQL, on a machine (or an image) whose PATH has no PostgreSQL client tools
    config = on_postgresql(tmp_path / "site", "http://127.0.0.1:8080", postgres.cluster().fresh_database())
    assert (await fedblog_at(config, "migrate")).code == 0
    bare = tmp_path / "bin"
    bare.mkdir()
    backup = tmp_path / "backup.tar.gz"
    # When the operator backs it up
    result = await run(FEDBLOG, "--config", str(config), "backup", str(backup), env=clean_env(PATH=str(bare)))
    # Then one line says what is missing and where it comes from, and no archive (nor a partial one) is left
    assert_one_line_error(result, "pg_dump is not installed", "postgresql-client")
    assert not backup.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin", "site"]
