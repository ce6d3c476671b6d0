"""What a request handler, the worker or a CLI command needs, built in one place from the settings."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.config import ConfigError, Settings, apply_overrides
from fedblog.i18n import I18n
from fedblog.protocol.keys import load_private_key, public_key_pem
from fedblog.store.comments import CommentStore
from fedblog.store.db import Database
from fedblog.store.posts import PostStore
from fedblog.store.settings import SettingsStore
from fedblog.urls import Urls

if TYPE_CHECKING:
    from fedblog.services.events import CommentListener, PostListener


@dataclass
class Context:
    settings: Settings
    db: Database
    urls: Urls
    private_key: rsa.RSAPrivateKey
    public_key_pem: str
    i18n: I18n
    posts: PostStore
    comments: CommentStore
    post_listeners: list[PostListener] = field(default_factory=list)
    comment_listeners: list[CommentListener] = field(default_factory=list)
    # Filled by the modules that own them (federation stores, http client…), looked up by name.
    extras: dict[str, Any] = field(default_factory=dict)
    # Called in reverse order when the context closes (http sessions, background tasks).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def read_site_key(settings: Settings) -> rsa.RSAPrivateKey:
    path = settings.key_path
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"keys: the site key {str(path)!r} is missing (made by `fedblog init`)") from None
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"keys: {str(path)!r} is readable by others (mode {mode:o}); run chmod 600 on it")
    try:
        return load_private_key(pem)
    except ValueError as error:
        raise ConfigError(f"keys: {str(path)!r} is not a usable RSA private key ({error})") from None


async def open_database(settings: Settings) -> Database:
    """The site database, or a ConfigError naming database.path when it cannot be opened."""
    path = settings.database_path
    if not path.parent.is_dir():
        raise ConfigError(f"database.path: the folder of {str(path)!r} does not exist")
    try:
        return await Database.open(path)
    except sqlite3.Error as error:
        raise ConfigError(f"database.path: cannot open {str(path)!r} ({error})") from None


async def with_saved_settings(db: Database, settings: Settings) -> Settings:
    """The file's settings with those saved from the admin put over them (see config.apply_overrides)."""
    try:
        return apply_overrides(settings, await SettingsStore(db).load())
    except ConfigError as error:
        raise ConfigError(f"settings saved in the admin: {error}") from None


@contextlib.asynccontextmanager
async def open_context(settings: Settings) -> AsyncIterator[Context]:
    """Open the database and load the key; the same for `serve`, the CLI and tests."""
    key = read_site_key(settings)
    db = await open_database(settings)
    try:
        settings = await with_saved_settings(db, settings)
        ctx = Context(
            settings=settings,
            db=db,
            urls=Urls(settings.site.base_url, settings.author.username),
            private_key=key,
            public_key_pem=public_key_pem(key),
            i18n=I18n(settings.site.language),
            posts=PostStore(db),
            comments=CommentStore(db),
        )
        for install in _installers():
            install(ctx)
        try:
            yield ctx
        finally:
            for close in reversed(ctx.closers):
                await close()
    finally:
        await db.close()


def _installers() -> list[Any]:
    """Modules that attach listeners and stores to a context (federation, conversations)."""
    from fedblog.services import plugins

    return plugins.installers()
