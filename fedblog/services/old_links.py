"""Where an old WordPress URL lives now: every permalink shape WordPress may have used, and the links the import
recorded (`old_links`). Returns the new URL, or None for a path that matches nothing (the normal 404).

Shapes: /?p=ID, /?page_id=ID, /?feed=…, /?s=…, /?m=YYYYMM, /?tag=…, /YYYY/MM/DD/slug/, /YYYY/MM/slug/, /slug/,
/category/…/slug/, /index.php/… (PATHINFO permalinks), /tag/NAME/, /category/NAME/ (and its parents), /feed/,
/comments/feed/, /slug/feed/ (the post's comment feed), /YYYY/MM/ and /YYYY/ archives, /author/NAME/, /page/N/,
/wp-content/uploads/… (downloaded media).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from fedblog.context import Context
from fedblog.models import Post
from fedblog.store.categories import CategoryStore
from fedblog.store.old_links import OldLinkStore

WORDPRESS_QUERY_KEYS = frozenset({"p", "page_id", "feed", "s", "m", "tag", "cat", "author", "attachment_id"})
_FEEDS = frozenset({"feed", "rss", "rss2", "atom", "rdf"})
_YEAR_MONTH = re.compile(r"^/(\d{4})(?:/(\d{2}))?(?:/(\d{2}))?$")


def normalize_path(path: str) -> str:
    """As the import records paths: without a trailing slash (WordPress links end with one), without the
    /index.php prefix of PATHINFO permalinks."""
    if path == "/index.php" or path.startswith("/index.php/"):
        path = path[len("/index.php") :]
    return path.rstrip("/") or "/"


class OldLinkResolver:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.links = OldLinkStore(ctx.db)
        self.categories = CategoryStore(ctx.db)

    async def resolve(self, path: str, query: Mapping[str, str]) -> str | None:
        urls = self.ctx.urls
        path = normalize_path(path)
        if path == "/" and query:
            return await self._from_query(query)
        if query:
            known = await self._recorded(f"{path}?{urlencode(sorted(query.items()))}")
            if known:
                return known
        known = await self._recorded(path)
        if known:
            return known
        segments = [s for s in path.split("/") if s]
        if not segments:
            return None
        head, last = segments[0], segments[-1]
        if last in _FEEDS or (len(segments) >= 2 and segments[-2] == "feed"):
            return await self._feed(segments)
        if head == "wp-content":
            return None  # media that was not downloaded: nothing here answers for it
        if head == "page" and len(segments) == 2 and last.isdigit():
            return urls.home(int(last))
        if head == "author":
            return urls.home()
        if head == "tag" and len(segments) == 2:
            return await self._tag(last)
        if head == "category":
            category = await self.categories.get_by_slug(last)
            if category is not None:
                return urls.category(category.slug)
        archive = _YEAR_MONTH.match(path)
        if archive:
            year, month = int(archive.group(1)), archive.group(2)
            return urls.archive(year, int(month)) if month and 1 <= int(month) <= 12 else urls.archive_index()
        return await self._by_slug(last)

    async def _from_query(self, query: Mapping[str, str]) -> str | None:
        urls = self.ctx.urls
        for key in ("p", "page_id", "attachment_id"):
            if query.get(key, "").isdigit():
                post = await self.ctx.posts.get_post_by_wp_id(int(query[key]))
                return self._url(post)
        if "feed" in query:
            return urls.comments_feed() if query["feed"].startswith("comments") else urls.feed()
        if query.get("s"):
            return urls.search(query["s"][:200])
        if re.fullmatch(r"\d{6}", query.get("m", "")):
            year, month = int(query["m"][:4]), int(query["m"][4:])
            return urls.archive(year, month) if 1 <= month <= 12 else None
        if query.get("tag"):
            return await self._tag(query["tag"])
        if "author" in query:
            return urls.home()
        return None

    async def _recorded(self, path: str) -> str | None:
        found = await self.links.find(path)
        if found is None:
            return None
        post_id, target = found
        if target is not None:
            return self.ctx.urls.absolute(target)
        return self._url(await self.ctx.posts.get_post_by_id(post_id)) if post_id else None

    async def _feed(self, segments: list[str]) -> str | None:
        urls = self.ctx.urls
        cut = segments.index("feed") if "feed" in segments else len(segments) - 1
        before = segments[:cut]
        if not before:
            return urls.feed()
        if before == ["comments"]:
            return urls.comments_feed()
        if before[0] == "category":
            category = await self.categories.get_by_slug(before[-1])
            return urls.category_feed(category.slug) if category else None
        if before[0] == "tag" and len(before) == 2:
            return await self._tag(before[1])
        post_url = await self._recorded("/" + "/".join(before)) or await self._by_slug(before[-1])
        if post_url is None:
            return None
        post = await self.ctx.posts.get_post_by_slug(urlsplit(post_url).path.strip("/").split("/")[-1])
        return urls.post_comments_feed(post.slug) if post else None

    async def _tag(self, slug: str) -> str | None:
        known = await self._recorded(f"/tag/{slug}")
        if known:
            return known
        for tag, _count in await self.ctx.posts.list_tags():
            if tag.lower() == slug.replace("-", "").lower():
                return self.ctx.urls.tag(tag)
        return None

    async def _by_slug(self, segment: str) -> str | None:
        known = await self._recorded(f"/{segment}")
        if known:
            return known
        return self._url(await self.ctx.posts.get_post_by_slug(segment))

    def _url(self, post: Post | None) -> str | None:
        if post is None or post.draft:
            return None
        return self.ctx.urls.post_or_page(post.slug, post.is_page)
