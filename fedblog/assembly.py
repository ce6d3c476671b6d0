"""The one module that knows every service: it opens a Context and composes it.

Who hears a published post or a changed comment is listed in `compose` below (listeners run inside the
transaction that makes the change); who handles an incoming activity is the table in
services/inbox_dispatch.py. Entry points (fedblog/app.py, fedblog/cli/) open contexts here; nothing below
imports this module (tests/unit/test_layering.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.config import ConfigError, Settings, apply_overrides, database_password, redacted_url
from fedblog.context import Context
from fedblog.i18n import I18n
from fedblog.protocol.keys import load_private_key, public_key_pem
from fedblog.services.backfill import BackfillListener
from fedblog.services.comment_federation import CommentFederation
from fedblog.services.federation import PostFederation
from fedblog.services.inbox import wait_for_processing
from fedblog.services.webmention_send import WebmentionQueue, sending_enabled
from fedblog.store.comments import CommentStore
from fedblog.store.db import Database, DatabaseError, SchemaTooNew, StorageUnavailable
from fedblog.store.posts import PostStore
from fedblog.store.settings import SettingsStore
from fedblog.urls import Urls


def compose(ctx: Context) -> None:
    """Attach every listener, so that a context made by `serve`, the CLI or a test is complete."""
    # A post published from the admin, the CLI or anywhere reaches the followers: its Create is queued in the
    # same transaction, and the server's delivery worker sends it.
    ctx.post_listeners.append(PostFederation(ctx))
    if sending_enabled(ctx):
        ctx.post_listeners.append(WebmentionQueue(ctx))
    # A local comment answering a fediverse one goes to its author; a removed one is deleted there.
    ctx.comment_listeners.append(CommentFederation(ctx))
    # A published fediverse comment has its sub-thread read later by the backfill worker.
    ctx.comment_listeners.append(BackfillListener(ctx))


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
        compose(ctx)
        try:
            yield ctx
        finally:
            # The inbox's tasks first: they may still need what the closers close (the HTTP client).
            await wait_for_processing(ctx)
            for close in reversed(ctx.closers):
                await close()
    finally:
        await db.close()


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
    """The site database on the backend database.url names (SQLite by default), migrated; a ConfigError naming
    database.path (or .url) when it cannot be opened, StorageUnavailable when its server cannot be reached."""
    if settings.database_backend == "postgresql":
        # asyncpg only where PostgreSQL is used: its import was a twentieth of an SQLite site's start.
        from fedblog.store.postgresql.database import PostgresDatabase

        url = settings.database.url
        try:
            return await PostgresDatabase.connect(
                url, database_password(settings), settings.database.statement_timeout_seconds
            )
        except DatabaseError as error:
            raise ConfigError(f"database.url: cannot open {redacted_url(url)!r} ({error})") from None
        except SchemaTooNew:
            raise
        except StorageUnavailable as error:
            raise type(error)(f"database.url {redacted_url(url)!r}: {error}") from None
    path = settings.database_path
    if not path.parent.is_dir():
        raise ConfigError(f"{settings.database_key}: the folder of {str(path)!r} does not exist")
    try:
        return await Database.open(path)
    except DatabaseError as error:
        raise ConfigError(f"{settings.database_key}: cannot open {str(path)!r} ({error})") from None


async def with_saved_settings(db: Database, settings: Settings) -> Settings:
    """The file's settings with those saved from the admin put over them (see config.apply_overrides)."""
    try:
        return apply_overrides(settings, await SettingsStore(db).load())
    except ConfigError as error:
        raise ConfigError(f"settings saved in the admin: {error}") from None
