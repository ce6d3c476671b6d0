"""The routes table: each web module registers its own routes and background tasks."""

from __future__ import annotations

from aiohttp import web

from fedblog.web import (
    activitypub,
    admin,
    admin_blocklists,
    admin_federation,
    admin_reports,
    blog,
    comment_feeds,
    comments,
    dashboard_stats,
    faces,
    health,
    inbox,
    interaction,
    media,
    metrics,
    notifier,
    old_links,
    own_comments,
    pages,
    pingback,
    preview,
    reading,
    search,
    seo,
    static,
    subscriber_notifier,
    subscriptions,
    webmention,
    wellknown,
    wordpress_media,
    worker,
)


def setup(app: web.Application) -> None:
    # No two routes match the same path (AP endpoints negotiate on the pages' own URLs, in their handlers), so the
    # order only decides which patterns aiohttp tries first: the blog's, the most requested, come first.
    first = (blog, static, wellknown, activitypub, inbox, admin, admin_federation, comments, interaction, worker)
    modules = (*first, media, admin_blocklists, admin_reports, dashboard_stats, reading)
    extras = (webmention, pingback, search, seo, comment_feeds, notifier, preview, own_comments, subscriptions)
    wordpress = (pages, old_links, wordpress_media)
    for module in (*modules, *extras, subscriber_notifier, faces, health, metrics, *wordpress):
        module.setup(app)
    pages.setup_pages(app)  # /SLUG/ last: every fixed path wins
