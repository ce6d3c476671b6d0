"""The routes table: each web module registers its own routes and background tasks."""

from __future__ import annotations

from aiohttp import web

from fedblog.web import (
    activitypub,
    admin,
    admin_blocklists,
    admin_federation,
    blog,
    comment_feeds,
    comments,
    dashboard_stats,
    health,
    inbox,
    interaction,
    media,
    notifier,
    preview,
    reading,
    search,
    seo,
    static,
    webmention,
    wellknown,
    worker,
)


def setup(app: web.Application) -> None:
    # No two routes match the same path (AP endpoints negotiate on the pages' own URLs, in their handlers), so the
    # order only decides which patterns aiohttp tries first: the blog's, the most requested, come first.
    first = (blog, static, wellknown, activitypub, inbox, admin, admin_federation, comments, interaction, worker)
    modules = (*first, media, admin_blocklists, dashboard_stats, reading)
    for module in (*modules, webmention, search, seo, comment_feeds, notifier, preview, health):
        module.setup(app)
