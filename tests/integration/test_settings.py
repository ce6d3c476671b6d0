"""The admin's settings page on the real app: checked like fedblog.toml, kept in the database where they win over
the file, applied without a restart, profile changes federated as Update(Person), the password changed."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import pytest
from PIL import Image

from fedblog.assembly import open_context
from fedblog.config import editable_values
from fedblog.store.settings import SettingsStore
from tests.conftest import ADMIN_PASSWORD, LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import add_follower, eventually, log_in
from tests.integration.blog_support import get, new_session
from tests.integration.studio_support import Admin, logged_in


def current_form(site: LiveSite, **changes: Any) -> dict[str, str]:
    """The settings form as the page fills it, with some fields changed (keys with '__' for '.')."""
    values = editable_values(site.ctx.settings)
    fields: dict[str, str] = {}
    for key, value in values.items():
        name = key.replace(".", "__")
        if key == "federation.manually_approves_followers":
            if value:
                fields[name] = "on"
        elif key == "notifications.on":
            fields.update({f"notify_{event}": "on" for event in value})
        elif key == "author.links":
            fields[name] = "\n".join(value)
        else:
            fields[name] = str(value)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


async def save(admin: Admin, fields: dict[str, str], files: dict[str, bytes] | None = None) -> tuple[int, str, str]:
    form = aiohttp.FormData()
    form.add_field("csrf_token", admin.csrf)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, data in (files or {}).items():
        form.add_field(name, io.BytesIO(data), filename=f"{name}.png", content_type="image/png")
    async with admin.session.post(admin.site.url + "/admin/settings", data=form, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers.get("Location", "")


async def test_settings__saved_values_apply_at_once_and_win_over_the_file(admin: Admin) -> None:
    site = admin.site
    assert "Test blog" in (await get(site, "/")).text  # cached under the file's title
    fields = current_form(
        site, site__title="Carnets de route", site__language="fr", site__posts_per_page="3", author__bio="Je marche."
    )
    status, text, location = await save(admin, fields)
    assert status == 303 and location == "/admin/settings?saved=1", text
    home = await get(site, "/")
    assert "Carnets de route" in home.text and "Test blog" not in home.text
    assert 'lang="fr"' in home.text and "Rechercher" in home.text
    page = await admin.get("/admin/settings?saved=1")
    assert "Paramètres enregistrés" in page.text
    assert "fedblog.toml indique : Test blog" in page.text  # the file's value, shown beside the field
    # Only what differs from the file is kept, and a context opened later (the CLI, a restart) sees it.
    stored = await SettingsStore(site.ctx.db).load()
    assert stored == {
        "site.title": "Carnets de route",
        "site.language": "fr",
        "site.posts_per_page": 3,
        "author.bio": "Je marche.",
    }
    async with open_context(site.settings) as later:
        assert later.settings.site.title == "Carnets de route" and later.settings.site.posts_per_page == 3
    # Setting a field back to the file's value forgets it: the file applies again.
    status, _text, _location = await save(admin, current_form(site, site__title="Test blog"))
    assert status == 303 and "site.title" not in await SettingsStore(site.ctx.db).load()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"site__posts_per_page": "0"}, "site.posts_per_page: must be at least 1"),
        ({"site__posts_per_page": "many"}, "site.posts_per_page: expected a whole number"),
        ({"author__links": "My site https://me.example"}, "author.links: expected"),
        ({"comments__moderation": "anything"}, "comments.moderation: expected one of"),
        ({"notifications__email": "not an address"}, "notifications.email: expected an e-mail address"),
    ],
)
async def test_settings__a_bad_value_is_refused_like_in_the_file_and_nothing_changes(
    admin: Admin, changes: dict[str, str], message: str
) -> None:
    status, text, _location = await save(admin, current_form(admin.site, site__title="Changed", **changes))
    assert status == 400 and message in text and 'aria-invalid="true"' in text
    assert 'value="Changed"' in text  # what was typed comes back
    assert await SettingsStore(admin.site.ctx.db).load() == {}
    assert admin.site.ctx.settings.site.title == "Test blog"


async def test_settings__profile_change_reaches_followers_as_update_person(admin: Admin) -> None:
    site = admin.site
    remote = await RemoteInstance(
        host="127.0.0.1", shared_inbox=True, blog_public_key_pem=site.ctx.public_key_pem
    ).start()
    try:
        await add_follower(site.ctx, remote, "gil")
        avatar = io.BytesIO()
        Image.new("RGB", (200, 200), (90, 30, 120)).save(avatar, "PNG")
        fields = current_form(
            site, author__display_name="Camille Martin", author__links="Site = https://camille.example"
        )
        status, text, _location = await save(admin, fields, files={"avatar_file": avatar.getvalue()})
        assert status == 303, text

        def update_received() -> dict[str, Any] | None:
            return next((r.activity for r in remote.received if r.activity.get("type") == "Update"), None)

        async def received() -> dict[str, Any] | None:
            return update_received()

        update = await eventually(received, "the Update(Person)")
        person = update["object"]
        assert person["name"] == "Camille Martin"
        assert person["icon"]["url"].startswith(site.url + "/media/")
        assert {"type": "PropertyValue", "name": "Site"}.items() <= person["attachment"][0].items()
        async with aiohttp.ClientSession() as session, session.get(person["icon"]["url"]) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "image/png"
    finally:
        await remote.close()


async def test_password__changed_with_the_current_one_and_the_old_one_stops_working(admin: Admin) -> None:
    site = admin.site
    wrong = await admin.post(
        "/admin/settings/password",
        {
            "current_password": "not it",
            "new_password": "a much better secret",
            "confirm_password": "a much better secret",
        },
    )
    assert wrong.status == 400 and "The current password is wrong." in wrong.text
    short = await admin.post(
        "/admin/settings/password",
        {"current_password": ADMIN_PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert short.status == 400 and "at least 8 characters" in short.text
    done = await admin.post(
        "/admin/settings/password",
        {
            "current_password": ADMIN_PASSWORD,
            "new_password": "a much better secret",
            "confirm_password": "a much better secret",
        },
    )
    assert done.status == 303
    async with new_session() as session:
        assert (await log_in(site, session)).status == 401
        assert (await log_in(site, session, password="a much better secret")).status == 303
    assert "a much better secret" not in str(await SettingsStore(site.ctx.db).load())


async def test_settings__notifications_turned_on_from_the_admin_send_without_a_restart(site_factory: Any) -> None:
    from fedblog.services.notifications import Outcome
    from fedblog.web.notifier import NOTIFIER_KEY
    from tests.conftest import free_port
    from tests.fakes.mail import SmtpInbox
    from tests.integration.blog_support import add_comment, publish

    smtp = SmtpInbox(free_port())
    await smtp.start()
    try:
        # The mail server is in the file; the address is off until the author sets it in the admin.
        site = await site_factory(
            overrides={"notifications": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}}
        )
        async with logged_in(site) as admin:
            status, text, _location = await save(admin, current_form(site, notifications__email="me@camille.example"))
            assert status == 303, text
        post = await publish(site, "Hello")
        await add_comment(site, post, "A first comment", name="Visitor", email="v@example.org", approve=False)
        assert await site.app[NOTIFIER_KEY].run_once() == Outcome.SENT
        [message] = smtp.messages
        assert message["To"] == "me@camille.example" and "1 comment awaiting moderation" in message["Subject"]
    finally:
        await smtp.stop()
