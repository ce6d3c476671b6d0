"""Admin posts: the list (drafts included), the Markdown form for new and existing posts with a server-side
preview, and deletion after a confirmation page. Saving goes through PostService, so followers hear of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiohttp import web
from multidict import MultiDictProxy

from fedblog.models import Post
from fedblog.rendering import render_markdown
from fedblog.services.posts import PostError, PostInput, PostService
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context

DATE_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows (UTC here)
FIELDS = ("title", "slug", "tags", "language", "summary", "date", "body")


@dataclass(frozen=True)
class PostFormValues:
    """The form as typed, kept as text so a refused form comes back exactly as it was."""

    title: str = ""
    slug: str = ""
    tags: str = ""
    language: str = ""
    summary: str = ""
    date: str = ""
    body: str = ""
    draft: bool = False
    comments_open: bool = True

    @classmethod
    def from_post(cls, post: Post) -> PostFormValues:
        return cls(
            title=post.title,
            slug=post.slug,
            tags=", ".join(post.tags),
            language=post.language,
            summary=post.summary,
            date=post.published_at.astimezone(UTC).strftime(DATE_FORMAT),
            body=post.body_markdown,
            draft=post.draft,
            comments_open=post.comments_open,
        )

    @classmethod
    def from_form(cls, form: MultiDictProxy[object]) -> PostFormValues:
        values = {name: form_text(form, name) for name in FIELDS}  # type: ignore[arg-type]
        return cls(**values, draft=form.get("draft") == "on", comments_open=form.get("comments_open") == "on")

    def to_input(self, current: Post | None = None) -> PostInput:
        return PostInput(
            title=self.title,
            body_markdown=self.body.replace("\r\n", "\n"),
            slug=self.slug.strip(),
            tags=tuple(tag.strip() for tag in self.tags.split(",") if tag.strip()),
            language=self.language.strip(),
            summary=self.summary,
            published_at=self.published_at(current),
            draft=self.draft,
            comments_open=self.comments_open,
        )

    def published_at(self, current: Post | None) -> datetime | None:
        text = self.date.strip()
        if not text:
            return None  # new post: now; existing post: unchanged
        if current is not None and text == current.published_at.astimezone(UTC).strftime(DATE_FORMAT):
            return current.published_at  # keep the seconds the form does not show
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise PostError("date: expected a date and time such as 2026-02-21T10:30") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def error_by_field(gettext: Callable[[str], str], message: str) -> dict[str, str]:
    """PostError says 'field: problem'; show the problem next to its field (or above the form)."""
    field, sep, problem = message.partition(":")
    if sep and field.strip() in FIELDS:
        return {field.strip(): gettext(problem.strip())}
    return {"form": gettext(message)}


async def list_posts(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    return render_admin(
        request,
        "admin/posts.html",
        section="posts",
        posts=await ctx.posts.list_all(),
        deleted=request.query.get("deleted", "")[:100],
    )


def post_form(
    request: web.Request,
    values: PostFormValues,
    post: Post | None = None,
    errors: dict[str, str] | None = None,
    preview_html: str | None = None,
    status: int = 200,
) -> web.Response:
    return render_admin(
        request,
        "admin/post_form.html",
        status=status,
        section="posts" if post else "new",
        values=values,
        post=post,
        errors=errors or {},
        preview_html=preview_html,
        saved=request.query.get("saved") == "1",
    )


async def new_post(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    return post_form(request, PostFormValues(language=ctx.settings.site.language))


async def edit_post(request: web.Request) -> web.Response:
    await admin_session(request)
    post = await load_post(request)
    return post_form(request, PostFormValues.from_post(post), post=post)


async def load_post(request: web.Request) -> Post:
    post = await get_context(request).posts.get_post_by_slug(request.match_info["slug"], include_drafts=True)
    if post is None:
        raise web.HTTPNotFound()
    return post


async def save_post(request: web.Request) -> web.Response:
    """POST of the new or edit form: 'preview' re-renders it with the HTML, 'save' publishes or updates."""
    form = await admin_form(request)
    ctx = get_context(request)
    current = await load_post(request) if "slug" in request.match_info else None
    values = PostFormValues.from_form(form)
    if current is not None:
        values = replace(values, slug=current.slug)  # the slug never changes
    if form.get("action") == "preview":
        return post_form(request, values, post=current, preview_html=render_markdown(values.body))
    service = PostService(ctx)
    try:
        data = values.to_input(current)
        post = await service.publish(data) if current is None else await service.edit(current.slug, data)
    except PostError as error:
        errors = error_by_field(ctx.i18n.gettext, str(error))
        return post_form(request, values, post=current, errors=errors, status=400)
    raise web.HTTPSeeOther(f"/admin/posts/{post.slug}/edit?saved=1")


async def confirm_delete(request: web.Request) -> web.Response:
    await admin_session(request)
    post = await load_post(request)
    return render_admin(request, "admin/post_delete.html", section="posts", post=post)


async def delete_post(request: web.Request) -> web.Response:
    await admin_form(request)
    post = await load_post(request)
    await PostService(get_context(request)).delete(post.slug)
    raise web.HTTPSeeOther(f"/admin/posts?deleted={post.slug}")


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/posts", list_posts, name="admin_posts")
    router.add_get("/admin/posts/new", new_post, name="admin_new_post")
    router.add_post("/admin/posts/new", save_post)
    router.add_get("/admin/posts/{slug}/edit", edit_post, name="admin_edit_post")
    router.add_post("/admin/posts/{slug}/edit", save_post)
    router.add_get("/admin/posts/{slug}/delete", confirm_delete, name="admin_delete_post")
    router.add_post("/admin/posts/{slug}/delete", delete_post)
