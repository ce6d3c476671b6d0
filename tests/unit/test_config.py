from dataclasses import replace
from pathlib import Path

import pytest

from fedblog.config import ConfigError, load_settings, render_config
from tests.conftest import make_site, settings_with


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fedblog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def default_text(**kwargs: str) -> str:
    values = {
        "base_url": "https://blog.example",
        "username": "author",
        "title": "T",
        "language": "en",
        "password_hash": "",
        "database": "fedblog.sqlite3",
    }
    values.update(kwargs)
    return render_config(**values)


def test_load_settings__defaults_from_init_template(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, default_text()), environ={})
    assert settings.site.base_url == "https://blog.example"
    assert settings.comments.moderation == "first_time"
    assert settings.database_path == tmp_path / "fedblog.sqlite3"


def test_load_settings__environment_overrides_each_key(tmp_path: Path) -> None:
    env = {
        "FEDBLOG_SITE_LANGUAGE": "fr",
        "FEDBLOG_FEDERATION_AUTHORIZED_FETCH": "true",
        "FEDBLOG_SITE_POSTS_PER_PAGE": "3",
        "FEDBLOG_FEDERATION_HEARTBEAT_STALE_SECONDS": "30",
    }
    settings = load_settings(write_config(tmp_path, default_text()), environ=env)
    assert settings.federation.heartbeat_stale_seconds == 30
    assert settings.site.language == "fr"
    assert settings.federation.authorized_fetch is True
    assert settings.site.posts_per_page == 3


@pytest.mark.parametrize(
    ("text_change", "env", "message"),
    [
        (("[site]", "[site]\ncolour = 'red'"), {}, "site.colour: unknown key"),
        (("[site]", "[sight]\n[site]"), {}, "[sight]: unknown section"),
        (('language = "en"', 'language = "de"'), {}, "site.language"),
        (('moderation = "first_time"', 'moderation = "sometimes"'), {}, "comments.moderation"),
        (("posts_per_page = 10", "posts_per_page = 'ten'"), {}, "site.posts_per_page: expected an integer"),
        (("", ""), {"FEDBLOG_FEDERATION_AUTHORIZED_FETCH": "maybe"}, "federation.authorized_fetch"),
        (('base_url = "https://blog.example"', 'base_url = "ftp://blog.example"'), {}, "site.base_url"),
        (("", ""), {"FEDBLOG_SITE_LANGUAGEE": "fr"}, "FEDBLOG_SITE_LANGUAGEE: unknown environment variable (did you"),
        (("", ""), {"FEDBLOG_NOPE": "1"}, "FEDBLOG_NOPE: unknown environment variable"),
        (("heartbeat_stale_seconds = 15", "heartbeat_stale_seconds = 2"), {}, "federation.heartbeat_stale_seconds"),
        (("page_cache_mb = 64", "page_cache_mb = -1"), {}, "server.page_cache_mb: expected 0 (no cache) to 4096 MiB"),
        (("", ""), {"FEDBLOG_SERVER_COMMENT_CACHE_MB": "100000"}, "server.comment_cache_mb: expected 0"),
    ],
)
def test_load_settings__bad_value_names_the_key(tmp_path: Path, text_change, env, message) -> None:
    text = default_text().replace(*text_change, 1) if text_change[0] else default_text()
    with pytest.raises(ConfigError) as error:
        load_settings(write_config(tmp_path, text), environ=env)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_load_settings__invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write_config(tmp_path, "[site\n"), environ={})


def test_load_settings__other_variables_are_not_fedblog_keys(tmp_path: Path) -> None:
    env = {"FEDBLOG_CONFIG": "elsewhere.toml", "FEDBLOG_FUZZ_PROFILE": "ci", "FEDBLOGGER": "x", "HOME": "/root"}
    assert load_settings(write_config(tmp_path, default_text()), environ=env).site.language == "en"


def test_test_sites__a_file_with_overrides_reads_back_as_the_replaced_settings(tmp_path: Path) -> None:
    """The tests' sites: what a test's app uses and what its CLI reads from the file are the same settings."""
    overrides = {"federation": {"trusted_hosts": ["peer.example"]}, "site": {"title": 'A "quoted" été'}}
    config = make_site(tmp_path, "http://127.0.0.1:9", overrides=overrides)
    plain = load_settings(make_site(tmp_path / "plain", "http://127.0.0.1:9"), environ={})
    loaded = load_settings(config, environ={})
    assert loaded.federation.trusted_hosts == ("peer.example",)
    assert loaded.site.title == 'A "quoted" été'
    assert replace(loaded, root=plain.root, admin=plain.admin) == settings_with(plain, overrides)
