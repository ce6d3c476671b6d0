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
from fedblog.models import BodyFormat, Post, PostKind, PostState, post_state
from fedblog.protocol.hashtags import normalize_tag
from fedblog.rendering import render_markdown, sanitize_post_html
from fedblog.store.categories import CategoryStore
from fedblog.store.db import Connection
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
    # None: a new post takes the default, an edited one keeps what it has (the admin form and old front matter
    # do not know them).
    kind: PostKind | None = None
    menu_order: int | None = None
    in_menu: bool | None = None
    body_format: BodyFormat | None = None
    categories: tuple[str, ...] | None = None  # category names (slugs made from them)
    excerpt: str | None = None


def slugify(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", normalized).strip("-")[:80] or "post"


def input_from_document(document: Document) -> PostInput:
    meta = document.meta
    tags = meta.get("tags", [])
    date = meta.get("date")
    try:
        published = parse_date(str(date)) if date else None
    except ValueError:
        raise PostError(f"date: expected YYYY-MM-DD or ISO 8601, got {date!r}") from None
    kind = meta.get("kind")
    if kind is not None and str(kind) not in {k.value for k in PostKind}:
        raise PostError(f"kind: expected post or page, got {kind!r}")
    categories = meta.get("categories")
    menu_order = meta.get("menu_order")
    try:
        order = int(str(menu_order)) if menu_order is not None else None
    except ValueError:
        raise PostError(f"menu_order: expected a whole number, got {menu_order!r}") from None
    in_menu = meta.get("menu")
    body_format = meta.get("format")
    if body_format is not None and str(body_format) not in {f.value for f in BodyFormat}:
        raise PostError(f"format: expected markdown or html, got {body_format!r}")
    excerpt = meta.get("excerpt")
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
        kind=PostKind(str(kind)) if kind is not None else None,
        menu_order=order,
        in_menu=bool(in_menu) if in_menu is not None else None,
        categories=tuple(str(c) for c in categories) if isinstance(categories, list) else None,
        body_format=BodyFormat(str(body_format)) if body_format is not None else None,
        excerpt=str(excerpt) if excerpt is not None else None,
    )


def _is_federated(post: Post) -> bool:
    """Listeners (federation, webmentions) hear about published blog posts; pages stay on the site."""
    return post.is_public and not post.is_page


class PostService:
    """Every change of a post's state goes through here, so the site, the feeds and the followers agree:
    draft -> published sends a Create, published -> published an Update, published -> draft (unpublish) a Delete
    and a 410 for its URL, a scheduled post is published (and sent) by `publish_due` when its time comes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.posts

    async def _category_ids(self, conn: Connection, names: tuple[str, ...]) -> tuple[int, ...]:
        store = CategoryStore(self.ctx.db)
        ids = []
        for name in dict.fromkeys(n.strip() for n in names if n.strip()):
            ids.append(await store.upsert(conn, slugify(name), name[:100]))
        return tuple(ids)

    def _fields(
        self,
        data: PostInput,
        slug: str,
        published_at: datetime,
        first_published_at: datetime | None = None,
        current: Post | None = None,
    ) -> PostFields:
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
        now = utcnow()
        state = post_state(data.draft, published_at, now)
        if state is PostState.PUBLISHED and first_published_at is None:
            first_published_at = now
        body_format = data.body_format or (current.body_format if current else BodyFormat.MARKDOWN)
        render = sanitize_post_html if body_format == BodyFormat.HTML else render_markdown
        kind = data.kind or (current.kind if current else PostKind.POST)
        return PostFields(
            kind=kind,
            body_format=body_format,
            menu_order=data.menu_order if data.menu_order is not None else (current.menu_order if current else 0),
            in_menu=data.in_menu if data.in_menu is not None else (current.in_menu if current else kind == "page"),
            author_name=current.author_name if current else None,
            excerpt=data.excerpt if data.excerpt is not None else (current.excerpt if current else ""),
            category_ids=tuple(c.id for c in current.categories) if current else (),
            slug=slug,
            title=title,
            body_markdown=data.body_markdown,
            body_html=render(data.body_markdown),
            summary=data.summary.strip(),
            language=language,
            state=state,
            published_at=published_at,
            tags=tags,
            comments_open=data.comments_open,
            first_published_at=first_published_at,
        )

    async def _new_slug(self, data: PostInput, current: Post | None = None) -> str:
        slug = slugify(data.slug or data.title)
        if data.slug and slugify(data.slug) != data.slug:
            raise PostError(f"slug: lowercase letters, digits and '-' only, e.g. {slugify(data.slug)!r}")
        if (current is None or slug != current.slug) and await self.store.slug_exists(slug):
            raise PostError(f"slug: a post {slug!r} already exists (use `post edit`)")
        return slug

    async def publish(self, data: PostInput) -> Post:
        """A new post: a draft, scheduled (its date is to come) or published now."""
        slug = await self._new_slug(data)
        fields = self._fields(data, slug, data.published_at or utcnow())
        async with self.ctx.db.transaction() as conn:
            if data.categories is not None:
                fields = replace(fields, category_ids=await self._category_ids(conn, data.categories))
            post_id = await self.store.insert_post(conn, fields)
            post = await self._load(post_id)
            if post.is_public:
                await self._went_public(conn, post)
        return post

    async def edit(self, slug: str, data: PostInput) -> Post:
        current = await self.store.get_post_by_slug(slug, include_drafts=True)
        if current is None:
            raise PostError(f"no post with slug {slug!r}")
        fields = await self._edited_fields(current, data)
        async with self.ctx.db.transaction() as conn:
            if data.categories is not None:
                fields = replace(fields, category_ids=await self._category_ids(conn, data.categories))
            await self.store.update_post(conn, current.id, fields, utcnow() if current.is_public else None)
            post = await self._load(current.id)
            if _is_federated(current) and _is_federated(post):
                for listener in self.ctx.post_listeners:
                    await listener.post_updated(conn, post)
            elif _is_federated(current):
                await self._went_private(conn, current)
            elif post.is_public:
                await self._went_public(conn, post)
        return post

    async def _edited_fields(self, current: Post, data: PostInput) -> PostFields:
        # The slug is the post's URL and its ActivityPub id: it never changes once the post has been public.
        new_slug = await self._new_slug(data, current) if current.slug_is_editable and data.slug else current.slug
        if data.published_at is not None:
            published_at = data.published_at
        elif current.first_published_at is None:
            # Never public and no date given: the post goes out "now" when it is published, not when it was begun;
            # a draft keeps its creation time, which the editor shows as "no date chosen".
            published_at = (current.created_at or current.published_at) if data.draft else utcnow()
        else:
            published_at = current.published_at
        return self._fields(data, new_slug, published_at, current.first_published_at, current)

    async def planned_state(self, data: PostInput, current: Post | None = None) -> PostState:
        """What saving `data` would make of the post, checked as saving checks it (PostError), without saving:
        the editor asks for a confirmation before a post reaches the followers."""
        if current is None:
            fields = self._fields(data, await self._new_slug(data), data.published_at or utcnow())
        else:
            fields = await self._edited_fields(current, data)
        return fields.state

    async def unpublish(self, slug: str) -> Post:
        """Back to draft: the page answers 410 and followers get a Delete of the Note, until it is published again."""
        current = await self.store.get_post_by_slug(slug, include_drafts=True)
        if current is None:
            raise PostError(f"no post with slug {slug!r}")
        if not current.is_public:
            raise PostError(f"the post {slug!r} is not published")
        return await self.edit(slug, replace(input_from_post(current), draft=True))

    async def delete(self, slug: str) -> Post:
        post = await self.store.get_post_by_slug(slug, include_drafts=True)
        if post is None:
            raise PostError(f"no post with slug {slug!r}")
        async with self.ctx.db.transaction() as conn:
            if post.is_public:
                await self._went_private(conn, post)
            await self.store.delete_post(conn, post.id)
        return replace(post, draft=True, state=PostState.DRAFT)

    async def publish_due(self) -> list[Post]:
        """Publish the scheduled posts whose time has come (the worker calls this; safe to run twice at once:
        a post goes public in one transaction only)."""
        published = []
        for scheduled in await self.store.list_due_scheduled(utcnow()):
            async with self.ctx.db.transaction() as conn:
                if not await self.store.mark_published(conn, scheduled.id, utcnow()):
                    continue
                post = await self._load(scheduled.id)
                await self._went_public(conn, post)
            published.append(post)
        return published

    async def _went_public(self, conn: Connection, post: Post) -> None:
        if not _is_federated(post):
            return  # a page stays on the site: not in the outbox, not sent
        await self.store.remove_tombstone(conn, self.ctx.urls.note(post.slug))
        for listener in self.ctx.post_listeners:
            await listener.post_published(conn, post)

    async def _went_private(self, conn: Connection, post: Post) -> None:
        """Unpublished or deleted: its URL answers 410 Gone, and followers are told to delete the Note."""
        if not _is_federated(post):
            return
        await self.store.add_tombstone(conn, self.ctx.urls.note(post.slug), "Note")
        for listener in self.ctx.post_listeners:
            await listener.post_deleted(conn, post)

    async def _load(self, post_id: int) -> Post:
        # Read through the transaction's own connection: the store shares it, so the row is visible.
        post = await self.store.get_post_by_id(post_id)
        assert post is not None
        return post


def input_from_post(post: Post) -> PostInput:
    """A stored post as the input that would save it unchanged."""
    return PostInput(
        title=post.title,
        body_markdown=post.body_markdown,
        slug=post.slug,
        tags=post.tags,
        language=post.language,
        summary=post.summary,
        published_at=post.published_at,
        draft=post.state is PostState.DRAFT,
        comments_open=post.comments_open,
    )
