"""Writing posts: publish, edit, delete, from Markdown; listeners (federation) hear about each change."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from fedblog.clock import parse_date, utcnow
from fedblog.config import LANGUAGES
from fedblog.context import Context
from fedblog.frontmatter import Document
from fedblog.models import Post
from fedblog.rendering import render_markdown
from fedblog.store.posts import PostFields

MAX_TITLE = 300
MAX_BODY = 200_000
MAX_TAGS = 20


class PostError(ValueError):
    """A post that cannot be saved; the message says which field and why."""


@dataclass(frozen=True)
class PostInput:
    title: str
    body_markdown: str
    slug: str = ""
    tags: tuple[str, ...] = ()
    language: str = ""
    summary: str = ""
    published_at: datetime | None = None
    draft: bool = False
    comments_open: bool = True


def slugify(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", normalized).strip("-")[:80] or "post"


def normalize_tag(tag: str) -> str:
    return re.sub(r"[^\w-]+", "", tag.strip().lstrip("#"), flags=re.UNICODE)[:64]


def input_from_document(document: Document) -> PostInput:
    meta = document.meta
    tags = meta.get("tags", [])
    date = meta.get("date")
    try:
        published = parse_date(str(date)) if date else None
    except ValueError:
        raise PostError(f"date: expected YYYY-MM-DD or ISO 8601, got {date!r}") from None
    return PostInput(
        title=str(meta.get("title", "")),
        body_markdown=document.body,
        slug=str(meta.get("slug", "")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        language=str(meta.get("language", "")),
        summary=str(meta.get("summary", "")),
        published_at=published,
        draft=bool(meta.get("draft", False)),
        comments_open=bool(meta.get("comments", True)),
    )


class PostService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.posts

    def _fields(self, data: PostInput, slug: str, published_at: datetime) -> PostFields:
        title = data.title.strip()
        if not title:
            raise PostError("title: required")
        if len(title) > MAX_TITLE:
            raise PostError(f"title: at most {MAX_TITLE} characters")
        if not data.draft and not data.body_markdown.strip():
            # A half-typed post must never reach the followers; a draft may stay empty while it is written.
            raise PostError("body: required to publish (save it as a draft to finish it later)")
        if len(data.body_markdown) > MAX_BODY:
            raise PostError(f"body: at most {MAX_BODY} characters")
        language = data.language or self.ctx.settings.site.language
        if language not in LANGUAGES and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", language):
            raise PostError(f"language: expected a language code such as en or fr, got {language!r}")
        tags = tuple(dict.fromkeys(t for t in (normalize_tag(tag) for tag in data.tags) if t))
        if len(tags) > MAX_TAGS:
            raise PostError(f"tags: at most {MAX_TAGS}")
        return PostFields(
            slug=slug,
            title=title,
            body_markdown=data.body_markdown,
            body_html=render_markdown(data.body_markdown),
            summary=data.summary.strip(),
            language=language,
            draft=data.draft,
            published_at=published_at,
            tags=tags,
            comments_open=data.comments_open,
        )

    async def publish(self, data: PostInput) -> Post:
        slug = slugify(data.slug or data.title)
        if data.slug and slugify(data.slug) != data.slug:
            raise PostError(f"slug: lowercase letters, digits and '-' only, e.g. {slugify(data.slug)!r}")
        if await self.store.slug_exists(slug):
            raise PostError(f"slug: a post {slug!r} already exists (use `post edit`)")
        fields = self._fields(data, slug, data.published_at or utcnow())
        async with self.ctx.db.transaction() as conn:
            post_id = await self.store.insert_post(conn, fields)
            await self.store.remove_tombstone(conn, self.ctx.urls.note(slug))
            post = await self._load(post_id)
            if not post.draft:
                for listener in self.ctx.post_listeners:
                    await listener.post_published(conn, post)
        return post

    async def edit(self, slug: str, data: PostInput) -> Post:
        current = await self.store.get_post_by_slug(slug, include_drafts=True)
        if current is None:
            raise PostError(f"no post with slug {slug!r}")
        # The slug is the post's URL and its ActivityPub id: it never changes once published.
        published_at = data.published_at or current.published_at
        fields = self._fields(data, current.slug, published_at)
        was_public = not current.draft
        async with self.ctx.db.transaction() as conn:
            await self.store.update_post(conn, current.id, fields, utcnow() if was_public else None)
            post = await self._load(current.id)
            for listener in self.ctx.post_listeners:
                if was_public and post.draft:
                    await listener.post_deleted(conn, post)
                elif was_public:
                    await listener.post_updated(conn, post)
                elif not post.draft:
                    await listener.post_published(conn, post)
        return post

    async def delete(self, slug: str) -> Post:
        post = await self.store.get_post_by_slug(slug, include_drafts=True)
        if post is None:
            raise PostError(f"no post with slug {slug!r}")
        async with self.ctx.db.transaction() as conn:
            if not post.draft:
                await self.store.add_tombstone(conn, self.ctx.urls.note(post.slug), "Note")
                for listener in self.ctx.post_listeners:
                    await listener.post_deleted(conn, post)
            await self.store.delete_post(conn, post.id)
        return replace(post, draft=True)

    async def _load(self, post_id: int) -> Post:
        # Read through the transaction's own connection: the store shares it, so the row is visible.
        post = await self.store.get_post_by_id(post_id)
        assert post is not None
        return post
