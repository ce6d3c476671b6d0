"""Settings changed from the admin: checked like fedblog.toml, kept in the database (where they win over the file),
applied to the running context at once, and told to followers (Update of the actor) when the profile changed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fedblog.config import EDITABLE_KEYS, ConfigError, Settings, apply_overrides, editable_values
from fedblog.i18n import I18n
from fedblog.passwords import hash_password, verify_password
from fedblog.services.federation import announce_profile_changes, blog_actor
from fedblog.store.settings import SettingsStore

if TYPE_CHECKING:
    from fedblog.context import Context

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


class PasswordError(ValueError):
    """A refused password change; the message is translated where shown."""


def changed_from_file(file_settings: Settings, values: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The values that differ from the file (to keep) and the keys equal to it (to forget: the file applies)."""
    file_values = editable_values(file_settings)
    keep = {key: value for key, value in values.items() if value != file_values[key]}
    same = tuple(key for key in values if key not in keep)
    return keep, same


class SiteSettingsService:
    def __init__(self, ctx: Context, file_settings: Settings) -> None:
        self.ctx = ctx
        self.file_settings = file_settings
        self.store = SettingsStore(ctx.db)

    async def saved_keys(self) -> set[str]:
        return {key for key in await self.store.load() if key in EDITABLE_KEYS}

    async def save(self, values: dict[str, Any]) -> Settings:
        """Check every value (ConfigError naming the first bad key, nothing saved), keep what differs from the
        file, apply to the running site, and send Update(Person) when the public profile changed."""
        unknown = [key for key in values if key not in EDITABLE_KEYS]
        if unknown:
            raise ConfigError(f"{unknown[0]}: cannot be set from the admin")
        saved = await self.store.load()
        keep, same = changed_from_file(self.file_settings, values)
        overrides = {key: value for key, value in saved.items() if key not in same} | keep
        settings = apply_overrides(self.file_settings, overrides)
        actor_before = await blog_actor(self.ctx)
        await self.store.save(keep)
        await self.store.forget(same)
        self.use(settings)
        if await blog_actor(self.ctx) != actor_before:
            await announce_profile_changes(self.ctx)
        return settings

    def use(self, settings: Settings) -> None:
        """The running context takes the new settings (the pages follow: their cache keys on the database)."""
        if settings.site.language != self.ctx.settings.site.language:
            self.ctx.i18n = I18n(settings.site.language)
        self.ctx.settings = settings

    async def change_password(self, current: str, new: str, confirmation: str) -> None:
        stored = self.ctx.settings.admin.password_hash
        if len(current) > MAX_PASSWORD or not await asyncio.to_thread(verify_password, stored, current):
            raise PasswordError("The current password is wrong.")
        if len(new) < MIN_PASSWORD or len(new) > MAX_PASSWORD:
            raise PasswordError("The new password must have at least 8 characters.")
        if new != confirmation:
            raise PasswordError("The two new passwords differ.")
        hashed = await asyncio.to_thread(hash_password, new)
        await self.store.save({"admin.password_hash": hashed})
        saved = await self.store.load()
        self.use(apply_overrides(self.file_settings, saved))
