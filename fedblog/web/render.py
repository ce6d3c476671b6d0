"""HTML rendering with Jinja2: autoescaped, translated, one environment per app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from fedblog import __version__
from fedblog.context import Context
from fedblog.i18n import I18n
from fedblog.rendering import html_to_plain_message, post_excerpt
from fedblog.services.comments import edit_source, keeps_markup
from fedblog.web.faces import face_url_factory
from fedblog.web.keys import CONTEXT_KEY, JINJA_KEY
from fedblog.web.navigation import navigation_pages

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def install_language(env: jinja2.Environment, i18n: I18n) -> None:
    env.install_gettext_translations(i18n.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = i18n.date
    env.filters["datetime"] = i18n.datetime
    env.filters["month"] = i18n.month
    env.globals.update(i18n=i18n, lang=i18n.language)


def refresh_environment(env: jinja2.Environment, ctx: Context) -> None:
    """After the settings changed from the admin: the templates see the new settings and language."""
    install_language(env, ctx.i18n)
    env.globals.update(settings=ctx.settings, site=ctx.settings.site, author=ctx.settings.author)


def create_environment(i18n: I18n, globals_: dict[str, Any]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(("html", "xml", "j2")),
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["post_excerpt"] = post_excerpt  # lists and feeds: the opening of a post, and whether there is more
    env.filters["plain_message"] = html_to_plain_message
    env.filters["edit_source"] = edit_source  # the admin's edit of a comment
    env.tests["keeping_markup"] = keeps_markup
    env.globals.update(globals_, version=__version__)
    install_language(env, i18n)
    return env


def render_html(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    env = request.app[JINJA_KEY]
    body = env.get_template(template).render(request=request, **values)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def render_string(app: web.Application, template: str, **values: Any) -> str:
    return app[JINJA_KEY].get_template(template).render(**values)


def site_globals(app: web.Application) -> dict[str, Any]:
    ctx = app[CONTEXT_KEY]
    return {
        "urls": ctx.urls,
        "settings": ctx.settings,
        "site": ctx.settings.site,
        "author": ctx.settings.author,
        "face_url": face_url_factory(app),
        "navigation_pages": lambda: navigation_pages(app),
    }
