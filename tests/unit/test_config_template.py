"""The config `fedblog init` writes lists every setting the dataclasses know, with the same defaults."""

from __future__ import annotations

import dataclasses
import tomllib

from fedblog.config import Settings, render_config

# Given by `fedblog init`, not defaults.
FROM_INIT = {
    ("site", "base_url"),
    ("site", "title"),
    ("site", "language"),
    ("author", "username"),
    ("author", "display_name"),
    ("database", "path"),
    ("admin", "password_hash"),
}
# Never written to the file: a secret better given by the environment.
NOT_WRITTEN = {("notifications", "smtp_password")}


def template() -> dict[str, dict[str, object]]:
    text = render_config("https://blog.example", "ana", "Ana's blog", "fr", "$argon2id$x", "blog.sqlite3")
    return tomllib.loads(text)


def defaults() -> dict[str, dict[str, object]]:
    settings = Settings()
    return {
        section.name: {
            key.name: list(value)
            if isinstance(value := getattr(getattr(settings, section.name), key.name), tuple)
            else value
            for key in dataclasses.fields(getattr(settings, section.name))
        }
        for section in dataclasses.fields(Settings)
        if dataclasses.is_dataclass(getattr(settings, section.name))
    }


def test_render_config__lists_every_setting_and_no_other() -> None:
    written = {(section, key) for section, keys in template().items() for key in keys}
    known = {(section, key) for section, keys in defaults().items() for key in keys}
    assert written == known - NOT_WRITTEN


def test_render_config__writes_the_dataclasses_defaults() -> None:
    written, known = template(), defaults()
    differing = [
        (section, key, value, known[section][key])
        for section, keys in written.items()
        for key, value in keys.items()
        if (section, key) not in FROM_INIT and value != known[section][key]
    ]
    assert differing == []
