"""Admin posts: the list (scheduled, drafts, published), the Markdown form for new and existing posts with a
server-side preview, and deletion once the title is typed. Saving goes through PostService, so followers hear of it.

Publishing is deliberate: the form's first (default) button, the one Enter presses, is "Save draft" ("Preview" for a
published post); "Publish" and "Update" are explicit, and when followers will receive the post the form comes back
once with the number of followers and a button that confirms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import MultiDictProxy

from fedblog.models import BodyFormat, Post, PostKind, PostState
from fedblog.rendering import render_markdown, sanitize_post_html
from fedblog.services.followers import FollowerService
from fedblog.services.posts import PostError, PostInput, PostService
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context
from fedblog.web.preview import preview_url

if TYPE_CHECKING:
    from fedblog.context import Context

DATE_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows (UTC here)
FIELDS = ("title", "slug", "tags", "language", "summary", "date", "body", "categories", "menu_order")


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
    draft: bool = True
    comments_open: bool = True
    categories: str = ""
    menu_order: str = "0"
    kind: str = "post"
    in_menu: bool = True

    @classmethod
    def from_post(cls, post: Post) -> PostFormValues:
        return cls(
            title=post.title,
            slug=post.slug,
            tags=", ".join(post.tags),
            language=post.language,
            summary=post.summary,
            date="" if no_date_chosen(post) else post.published_at.astimezone(UTC).strftime(DATE_FORMAT),
            body=post.body_markdown,
            draft=post.state is PostState.DRAFT,
            comments_open=post.comments_open,
            categories=", ".join(category.name for category in post.categories),
            menu_order=str(post.menu_order),
            kind=post.kind.value,
            in_menu=post.in_menu,
        )

    @classmethod
    def from_form(cls, form: MultiDictProxy[object], draft: bool) -> PostFormValues:
        values = {name: form_text(form, name) for name in FIELDS}
        return cls(
            **values,
            draft=draft,
            comments_open=form.get("comments_open") == "on",
            kind="page" if form.get("kind") == "page" else "post",
            in_menu=form.get("in_menu") == "on",
        )

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
            kind=PostKind(self.kind),
            categories=tuple(name.strip() for name in self.categories.split(",") if name.strip()),
            in_menu=self.in_menu,
            menu_order=self.order(),
        )

    def order(self) -> int:
        text = self.menu_order.strip() or "0"
        if not text.lstrip("-").isdigit() or abs(int(text)) > 1_000_000:
            raise PostError("menu_order: expected a whole number")
        return int(text)

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


def no_date_chosen(post: Post) -> bool:
    """A draft never published whose date is its creation time: the author has not chosen one (it goes out "now")."""
    if post.first_published_at is not None or post.state is not PostState.DRAFT or post.created_at is None:
        return False
    return abs((post.published_at - post.created_at).total_seconds()) < 2


def error_by_field(gettext: Callable[[str], str], message: str) -> dict[str, str]:
    """PostError says 'field: problem'; show the problem next to its field (or above the form)."""
    field, sep, problem = message.partition(":")
    if sep and field.strip() in FIELDS:
        return {field.strip(): gettext(problem.strip())}
    return {"form": gettext(message)}


async def list_posts(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    posts = await ctx.posts.list_all()
    scheduled = sorted((post for post in posts if post.state is PostState.SCHEDULED), key=lambda p: p.published_at)
    return render_admin(
        request,
        "admin/posts.html",
        section="posts",
        posts=posts,
        groups=[
            ("scheduled", ctx.i18n.gettext("Scheduled"), scheduled),
            ("drafts", ctx.i18n.gettext("Drafts"), [post for post in posts if post.state is PostState.DRAFT]),
            ("published", ctx.i18n.gettext("Published"), [post for post in posts if post.is_public]),
        ],
        deleted=request.query.get("deleted", "")[:100],
        previews={post.id: preview_url(request, post) for post in posts if not post.is_public},
    )


def post_form(
    request: web.Request,
    values: PostFormValues,
    post: Post | None = None,
    errors: dict[str, str] | None = None,
    preview_html: str | None = None,
    status: int = 200,
    confirm: Confirmation | None = None,
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
        confirm=confirm,
        saved=request.query.get("saved", "")[:20],
        private_preview=preview_url(request, post) if post is not None and not post.is_public else None,
        slug_editable=post is None or post.slug_is_editable,
    )


@dataclass(frozen=True)
class Confirmation:
    """Asked once before a post reaches followers: how many, and when (a scheduled post goes out later)."""

    followers: int
    state: PostState
    when: datetime | None


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
    """POST of the new or edit form. The button says what to do: 'draft' saves without publishing (Enter presses
    it), 'preview' re-renders with the HTML, 'publish' publishes, schedules or updates, once 'publish-confirmed'
    when followers will receive it, 'unpublish' takes a published post back to draft."""
    form = await admin_form(request)
    ctx = get_context(request)
    current = await load_post(request) if "slug" in request.match_info else None
    action = str(form.get("action", ""))
    publishing = action in ("publish", "publish-confirmed")
    if not publishing and action != "unpublish" and current is not None and current.is_public:
        action = "preview"  # nothing but the explicit buttons changes a published post
    if action == "preview":
        values = PostFormValues.from_form(form, draft=current is None or not current.is_public)
        values = keep_fixed_slug(values, current)
        is_html = current is not None and current.body_format == BodyFormat.HTML
        preview = sanitize_post_html(values.body) if is_html else render_markdown(values.body)
        return post_form(request, values, post=current, preview_html=preview)
    values = keep_fixed_slug(PostFormValues.from_form(form, draft=not publishing), current)
    service = PostService(ctx)
    try:
        data = values.to_input(current)
        if action == "publish":
            confirmation = await confirmation_needed(ctx, service, data, current)
            if confirmation is not None:
                return post_form(request, values, post=current, confirm=confirmation)
        post = await service.publish(data) if current is None else await service.edit(current.slug, data)
    except PostError as error:
        errors = error_by_field(ctx.i18n.gettext, str(error))
        return post_form(request, values, post=current, errors=errors, status=400)
    raise web.HTTPSeeOther(f"/admin/posts/{post.slug}/edit?saved={post.state.value}")


def keep_fixed_slug(values: PostFormValues, current: Post | None) -> PostFormValues:
    """Once a post has been public its slug is its address and its Note id: whatever the form says, it stays."""
    if current is not None and not current.slug_is_editable:
        return replace(values, slug=current.slug)
    return values


async def confirmation_needed(
    ctx: Context, service: PostService, data: PostInput, current: Post | None
) -> Confirmation | None:
    """A confirmation to ask for when saving would send the post to followers; None when nobody would receive it.
    The input is checked first, so a refused post shows its errors rather than a question."""
    state = await service.planned_state(data, current)
    if state is PostState.DRAFT or data.kind is PostKind.PAGE:
        return None  # nobody receives a draft, nor a page (pages stay on the site)
    followers = await FollowerService(ctx).count()
    if followers == 0:
        return None
    when = data.published_at if state is PostState.SCHEDULED else None
    return Confirmation(followers=followers, state=state, when=when)


async def confirm_delete(request: web.Request) -> web.Response:
    await admin_session(request)
    post = await load_post(request)
    return render_admin(request, "admin/post_delete.html", section="posts", post=post)


async def delete_post(request: web.Request) -> web.Response:
    """Deleting cannot be undone: the author types the title first (as GitHub asks for a repository's name)."""
    form = await admin_form(request)
    post = await load_post(request)
    typed = form_text(form, "confirm_title")
    if " ".join(typed.split()) != " ".join(post.title.split()):
        error = get_context(request).i18n.gettext("Type the title exactly as it is shown to delete the post.")
        return render_admin(
            request, "admin/post_delete.html", status=400, section="posts", post=post, error=error, typed=typed
        )
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
