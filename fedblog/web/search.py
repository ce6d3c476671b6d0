"""GET /search?q=…: full-text search over published posts (the index and the query syntax live in store/search.py).

Results are rendered for each request (the page cache would fill with one entry per query typed), so searches are
rate limited per client address instead, counted in the database (every process counts the same searches).
Search pages ask robots not to index them.
"""

from __future__ import annotations

from aiohttp import web

from fedblog.store.search import SearchStore, bounded_query, query_terms
from fedblog.web.blog import Pagination, page_count, page_number
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.ratelimit import SharedRateLimiter, client_ip
from fedblog.web.render import render_html

SEARCHES_PER_MINUTE = 30


def search_limiter(app: web.Application) -> SharedRateLimiter:
    state = app[STATE_KEY]
    if state.search_limiter is None:
        state.search_limiter = SharedRateLimiter(app[CONTEXT_KEY].db, "search", SEARCHES_PER_MINUTE, 60.0)
    return state.search_limiter


def too_many_searches(request: web.Request, retry_after: int) -> web.Response:
    message = get_context(request).i18n.gettext(
        "You have searched too often in a short time. Please wait a minute and search again."
    )
    response = render_html(request, "errors/error.html", status=429, error=web.HTTPTooManyRequests(), message=message)
    response.headers["Retry-After"] = str(retry_after)
    return response


async def search_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    query = bounded_query(request.query.get("q", ""))
    page = page_number(request)
    if query:
        ip = client_ip(request)
        limiter = search_limiter(request.app)
        if not await limiter.allow(ip):
            return too_many_searches(request, await limiter.retry_after(ip))
    per_page = ctx.settings.site.posts_per_page
    store = SearchStore(ctx.db)
    terms = query_terms(query)
    total = await store.count_matches(terms)
    pages = page_count(total, per_page)
    if page > pages:
        raise web.HTTPNotFound()
    hits = await store.search_posts(terms, per_page, (page - 1) * per_page)
    pagination = Pagination(page, pages, lambda number: ctx.urls.search(query, number))
    response = render_html(
        request, "blog/search.html", search_query=query, total=total, hits=hits, pagination=pagination
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/search", search_page, name="search")
