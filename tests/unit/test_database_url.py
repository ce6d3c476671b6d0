"""database.url: sqlite:/// relative to the config file (or absolute), FEDBLOG_DATABASE_URL, one-line errors that
never show a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedblog.config import ConfigError, database_password, load_settings, redacted_url, render_config


def config_file(tmp_path: Path, url: str = "") -> Path:
    text = render_config("https://blog.example", "author", "T", "en", "", "fedblog.sqlite3")
    path = tmp_path / "site" / "fedblog.toml"
    path.parent.mkdir()
    path.write_text(text.replace('url = ""', f'url = "{url}"'), encoding="utf-8")
    return path


def test_database_url__unset_keeps_database_path(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path), environ={})
    assert settings.database_path == tmp_path / "site" / "fedblog.sqlite3"
    assert settings.database_key == "database.path"


def test_database_url__sqlite_file_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, "sqlite:///data/blog.sqlite3"), environ={})
    assert settings.database_path == tmp_path / "site" / "data" / "blog.sqlite3"
    assert settings.database_key == "database.url"


def test_database_url__four_slashes_is_an_absolute_file(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, f"sqlite:///{tmp_path}/abs.sqlite3"), environ={})
    assert settings.database_path == tmp_path / "abs.sqlite3"


def test_database_url__from_the_environment(tmp_path: Path) -> None:
    environ = {"FEDBLOG_DATABASE_URL": "sqlite:///from-env.sqlite3"}
    settings = load_settings(config_file(tmp_path), environ=environ)
    assert settings.database_path == tmp_path / "site" / "from-env.sqlite3"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://blog:hunter2@db/blog", ("database.url", "sqlite:///FILE", "blog:***@db/blog")),
        ("sqlite:///", ("database.url", "sqlite:///FILE")),
        ("sqlite://relative.sqlite3", ("database.url", "sqlite:///FILE")),
        ("sqlite:///blog.sqlite3?mode=ro", ("database.url",)),
        ("postgresql://blog:hunter2@127.0.0.1/", ("database.url", "DBNAME", "blog:***@127.0.0.1/")),
        ("postgres://blog:hunter2@127.0.0.1:port/blog", ("database.url", "postgresql://USER", "blog:***@")),
        ("postgresql://blog:hunter2@127.0.0.1/blog/more", ("database.url", "DBNAME")),
    ],
)
def test_database_url__a_wrong_url_is_one_error_without_the_password(
    tmp_path: Path, url: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file(tmp_path, url), environ={})
    message = str(raised.value)
    assert "\n" not in message and "hunter2" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://blog:s3cret@db:5432/blog", "postgresql://blog:***@db:5432/blog"),
        ("postgresql://blog@db/blog", "postgresql://blog@db/blog"),
        ("sqlite:///blog.sqlite3", "sqlite:///blog.sqlite3"),
        ("not a url", "not a url"),
    ],
)
def test_redacted_url__hides_only_the_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


@pytest.mark.parametrize("url", ["postgresql://blog:hunter2@db.example:5432/blog", "postgres://blog@127.0.0.1/blog"])
def test_database_url__a_postgresql_url_is_accepted(tmp_path: Path, url: str) -> None:
    settings = load_settings(config_file(tmp_path, url), environ={})
    assert settings.database_backend == "postgresql"
    assert database_password(settings) is None  # asyncpg reads the URL's own


def test_database_url__the_password_may_come_from_the_environment(tmp_path: Path) -> None:
    environ = {"FEDBLOG_DATABASE_PASSWORD": "hunter2"}
    settings = load_settings(config_file(tmp_path, "postgresql://blog@127.0.0.1/blog"), environ=environ)
    assert database_password(settings) == "hunter2"
