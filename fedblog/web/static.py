"""Static files (stylesheet, icons) shipped in templates/static."""

from __future__ import annotations

from aiohttp import web

from fedblog.web.render import TEMPLATES_DIR


def setup(app: web.Application) -> None:
    app.router.add_static("/static/", TEMPLATES_DIR / "static", name="static", append_version=False)
