"""The routes table: each web module registers its own routes and background tasks."""

from __future__ import annotations

from aiohttp import web

from fedblog.web import (
    activitypub,
    admin,
    admin_federation,
    blog,
    comment_feeds,
    comments,
    inbox,
    interaction,
    notifier,
    search,
    seo,
    static,
    webmention,
    wellknown,
    worker,
)


def setup(app: web.Application) -> None:
    # Order matters only where paths overlap: AP endpoints negotiate on the same URLs as pages.
    modules = (static, wellknown, activitypub, inbox, admin, admin_federation, comments, interaction, blog, worker)
    for module in (*modules, webmention, search, seo, comment_feeds, notifier):
        module.setup(app)
