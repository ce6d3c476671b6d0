"""/admin/settings: what fedblog.toml holds that an author changes, checked like the file, kept in the database
(where it wins over the file), applied at once; avatar and header uploads; the admin password (current required)."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from fedblog.config import EDITABLE_KEYS, LANGUAGES, MODERATION_POLICIES, NOTIFICATION_EVENTS, ConfigError
from fedblog.config import editable_values as current_values
from fedblog.services.media import MediaError, MediaService, display_name
from fedblog.services.site_settings import PasswordError, SiteSettingsService
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import CONTEXT_KEY, JINJA_KEY, SETTINGS_KEY, get_context
from fedblog.web.media import UploadTooLarge, read_multipart
from fedblog.web.notifier import NOTIFIER_KEY
from fedblog.web.render import refresh_environment

INTEGER_KEYS = ("site.posts_per_page", "comments.close_after_days")
BOOLEAN_KEYS = ("federation.manually_approves_followers",)
IMAGE_FIELDS = {"avatar_file": "author.avatar", "header_file": "author.header_image"}


def service(request: web.Request) -> SiteSettingsService:
    return SiteSettingsService(get_context(request), request.app[SETTINGS_KEY])


def field_name(key: str) -> str:
    return key.replace(".", "__")


def values_from_form(texts: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed values of the posted form, and the errors of fields that are not even of the right type."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in EDITABLE_KEYS:
        text = texts.get(field_name(key), "")
        if key in BOOLEAN_KEYS:
            values[key] = text == "on"
        elif key in INTEGER_KEYS:
            try:
                values[key] = int(text.strip())
            except ValueError:
                errors[key] = f"{key}: expected a whole number, got {text!r}"
        elif key == "author.links":
            values[key] = [line.strip() for line in text.splitlines() if line.strip()]
        elif key == "notifications.on":
            values[key] = [event for event in NOTIFICATION_EVENTS if texts.get(f"notify_{event}") == "on"]
        else:
            values[key] = text.strip() if key != "author.bio" else text.replace("\r\n", "\n").strip()
    return values, errors


async def settings_page(
    request: web.Request,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> web.Response:
    ctx = get_context(request)
    return render_admin(
        request,
        "admin/settings.html",
        status=status,
        section="settings",
        values=values or current_values(ctx.settings),
        file_values=current_values(request.app[SETTINGS_KEY]),
        saved_keys=await service(request).saved_keys(),
        errors=errors or {},
        languages=LANGUAGES,
        policies=MODERATION_POLICIES,
        events=NOTIFICATION_EVENTS,
        field_name=field_name,
        saved=request.query.get("saved") == "1",
        password_changed=request.query.get("password") == "changed",
        **extra,
    )


async def show_settings(request: web.Request) -> web.Response:
    await admin_session(request)
    return await settings_page(request)


async def save_settings(request: web.Request) -> web.Response:
    session = await admin_session(request)
    ctx = get_context(request)
    _ = ctx.i18n.gettext
    media = MediaService(ctx)
    try:
        form = await read_multipart(request, media.max_bytes, tuple(IMAGE_FIELDS))
    except UploadTooLarge:
        message = _("the file is larger than %(size)d MB") % {"size": ctx.settings.media.max_upload_mb}
        return await settings_page(request, errors={"form": message}, status=400)
    if not hmac.compare_digest(form.texts.get("csrf_token", ""), session.csrf_token):
        raise web.HTTPForbidden(text="The form has expired: reload the page and try again.")
    values, errors = values_from_form(form.texts)
    notifications_before = ctx.settings.notifications
    if not errors:
        for field, key in IMAGE_FIELDS.items():
            if field in form.files:
                file_name, data = form.files[field]
                alt = values.get("author.display_name") or ctx.settings.author.username
                try:
                    item = await media.upload(data, file_name, alt)
                except MediaError as error:
                    errors[key] = error.text(_)
                    continue
                values[key] = ctx.urls.media(display_name(item))
    if not errors:
        try:
            await service(request).save(values)
        except ConfigError as error:
            key = str(error).split(":", 1)[0]
            errors[key if key in EDITABLE_KEYS else "form"] = str(error)
    if errors:
        return await settings_page(request, values=values, errors=errors, status=400)
    refresh_environment(request.app[JINJA_KEY], request.app[CONTEXT_KEY])
    if NOTIFIER_KEY in request.app and (ctx.settings.notifications != notifications_before):
        await request.app[NOTIFIER_KEY].start()  # marks set (on) or cleared (off), as at a start
    raise web.HTTPSeeOther("/admin/settings?saved=1")


async def change_password(request: web.Request) -> web.Response:
    form = await admin_form(request)
    ctx = get_context(request)
    try:
        await service(request).change_password(
            form_text(form, "current_password", 2000),
            form_text(form, "new_password", 2000),
            form_text(form, "confirm_password", 2000),
        )
    except PasswordError as error:
        return await settings_page(request, password_error=ctx.i18n.gettext(str(error)), status=400)
    raise web.HTTPSeeOther("/admin/settings?password=changed#password")


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/settings", show_settings, name="admin_settings")
    router.add_post("/admin/settings", save_settings)
    router.add_post("/admin/settings/password", change_password, name="admin_password")
