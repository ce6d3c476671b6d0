"""Leaving: the whole blog as a WordPress export (WXR 1.2) or as a folder of Markdown files, for `fedblog export`.

Both stream, one post at a time, and write to a temporary file renamed at the end: an interrupted export leaves no
half file under the name asked for. The files hold commenters' e-mail addresses and IP addresses, as WordPress's own
export does, so they are made readable by their owner only (mode 0600).

WordPress knows comments, pingbacks and trackbacks. The other origins go out as comments that WordPress's importer
takes, with their origin in comment meta the way WordPress's ActivityPub and Webmention plugins keep it: a fediverse
reply has its author's profile URL as website and `protocol` = `activitypub` with `source_id`; a webmention has
`protocol` = `webmention`, `semantic_linkbacks_type` (reply, like, …) and `source_url`. Private mentions are not
exported (WordPress has no private comments).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from fedblog import SOFTWARE_NAME, __version__
from fedblog.clock import to_text, utcnow
from fedblog.models import AuthorKind, Comment, CommentKind, CommentOrigin, CommentStatus, Post, PostKind
from fedblog.protocol import wxr_export as wxr
from fedblog.store.export import ExportedComment, ExportedPost, ExportStore

if TYPE_CHECKING:
    from fedblog.context import Context

_APPROVED = {CommentStatus.APPROVED: "1", CommentStatus.PENDING: "0", CommentStatus.SPAM: "spam"}
_TYPES = {CommentKind.PINGBACK: "pingback", CommentKind.TRACKBACK: "trackback"}


class ExportError(Exception):
    """The export could not be written; the message names the path."""


@dataclass
class ExportReport:
    posts: int = 0
    pages: int = 0
    comments: int = 0
    by_origin: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        origins = ", ".join(f"{name} {count}" for name, count in sorted(self.by_origin.items())) or "none"
        return [f"posts: {self.posts}, pages: {self.pages}", f"comments: {self.comments} ({origins})"]

    def count(self, exported: ExportedPost, comments: list[ExportedComment]) -> None:
        if exported.post.kind == PostKind.PAGE:
            self.pages += 1
        else:
            self.posts += 1
        self.comments += len(comments)
        for item in comments:
            name = origin_name(item.comment)
            self.by_origin[name] = self.by_origin.get(name, 0) + 1


def origin_name(comment: Comment) -> str:
    """web, fediverse, webmention, pingback, trackback or author: how a comment came, for reports and JSON."""
    if comment.kind != CommentKind.COMMENT:
        return comment.kind.value
    return comment.origin.value


def permalink(ctx: Context, post: Post) -> str:
    return ctx.urls.page(post.slug) if post.kind == PostKind.PAGE else ctx.urls.post(post.slug)


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[IO[str]]:
    """A text file written beside `path` with mode 0600, renamed to `path` when the block ends without error."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise ExportError(f"{path}: the folder {str(folder)!r} does not exist")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class _Ids:
    """WordPress ids for the export: the ones a row was imported with, else our own when free, else above all."""

    def __init__(self, taken: set[int], ceiling: int) -> None:
        self.taken = taken
        self.ceiling = ceiling

    def for_row(self, own: int, imported: int | None) -> int:
        if imported is not None:
            return imported
        return own if own not in self.taken else self.ceiling + own


def _post_status(post: Post) -> str:
    if post.draft:
        return "draft"
    return "future" if post.published_at > utcnow() else "publish"


def _comment_record(ctx: Context, item: ExportedComment, ids: _Ids, id_of: dict[int, int]) -> wxr.CommentRecord:
    comment = item.comment
    author = comment.author
    meta: list[tuple[str, str]] = []
    url = author.website or ""
    user_id = 0
    if comment.origin == CommentOrigin.FEDIVERSE:
        url = author.profile_url or author.actor_id or ""
        meta = [("protocol", "activitypub"), ("source_id", comment.remote_id or "")]
        meta.append(("source_url", comment.remote_url or ""))
        if author.avatar_url:
            meta.append(("avatar_url", author.avatar_url))
    elif comment.origin == CommentOrigin.WEBMENTION and comment.kind == CommentKind.COMMENT:
        url = author.profile_url or ""
        meta = [("protocol", "webmention"), ("semantic_linkbacks_type", item.mention_kind or "mention"),
                ("source_url", comment.remote_url or "")]  # fmt: skip
    elif comment.origin == CommentOrigin.AUTHOR or author.kind == AuthorKind.OWNER:
        url, user_id = author.profile_url or ctx.urls.base, 1
    return wxr.CommentRecord(
        comment_id=id_of[comment.id],
        author=author.name,
        author_email=author.email or "",
        author_url=url,
        author_ip=comment.ip or "",
        date=comment.created_at,
        content=comment.content_html,
        approved=_APPROVED[comment.status],
        comment_type=_TYPES.get(comment.kind, ""),
        parent_id=id_of.get(comment.parent_id or 0, 0),
        user_id=user_id,
        meta=tuple(meta),
    )


def _item_record(
    ctx: Context, exported: ExportedPost, comments: list[ExportedComment], post_ids: _Ids, comment_ids: _Ids
) -> wxr.ItemRecord:
    post = exported.post
    id_of = {item.comment.id: comment_ids.for_row(item.comment.id, item.comment.wp_comment_id) for item in comments}
    meta = [("_fedblog_language", post.language)]
    if post.summary:
        meta.append(("_fedblog_summary", post.summary))
    if post.in_menu:
        meta.append(("_fedblog_in_menu", "1"))
    link = permalink(ctx, post)
    return wxr.ItemRecord(
        post_id=post_ids.for_row(post.id, exported.wp_post_id),
        title=post.title,
        link=link,
        guid=link,
        creator=post.author_name or ctx.settings.author.username,
        content=post.body_html,
        excerpt=post.excerpt,
        date=post.published_at,
        modified=post.updated_at,
        comment_status="open" if post.comments_open else "closed",
        slug=post.slug,
        status=_post_status(post),
        post_type="page" if post.kind == PostKind.PAGE else "post",
        menu_order=post.menu_order,
        categories=tuple(wxr.Term(c.id, c.slug, c.name) for c in post.categories),
        tags=tuple(wxr.Term(0, tag, tag) for tag in post.tags),
        comments=tuple(_comment_record(ctx, item, comment_ids, id_of) for item in comments),
        meta=tuple(meta),
    )


async def export_wordpress(ctx: Context, out: Path) -> ExportReport:
    """Write the whole blog to `out` as WXR 1.2; raises ExportError."""
    store = ExportStore(ctx.db)
    max_post, max_comment = await store.max_ids()
    post_ids = _Ids(await store.wp_post_ids(), max_post)
    comment_ids = _Ids(await store.wp_comment_ids(), max_comment)
    categories = await store.list_categories()
    slug_of = {category.id: category.slug for category in categories}
    terms = [wxr.Term(c.id, c.slug, c.name, slug_of.get(c.parent_id or 0, ""), c.description) for c in categories]
    tags = [wxr.Term(index, tag, tag) for index, tag in enumerate(await store.list_tags(), start=len(terms) + 1)]
    settings = ctx.settings
    channel = wxr.Channel(
        title=settings.site.title,
        link=ctx.urls.base,
        description=settings.site.description,
        language=settings.site.language,
        author_login=settings.author.username,
        author_display_name=settings.author.display_name or settings.author.username,
        generator=f"{SOFTWARE_NAME} {__version__}",
        exported_at=utcnow(),
    )
    report = ExportReport()
    try:
        with _private_file(out) as handle:
            handle.write(wxr.header(channel, terms, tags))
            async for exported in store.iter_posts():
                comments = await store.list_comments(exported.post.id)
                handle.write(wxr.item(_item_record(ctx, exported, comments, post_ids, comment_ids)))
                report.count(exported, comments)
            handle.write(wxr.FOOTER)
    except OSError as error:
        raise ExportError(f"{out}: {error.strerror or error}") from None
    return report


# --- Markdown ---------------------------------------------------------------------------------------------------


def front_matter_document(post: Post) -> str:
    """The post as `fedblog post publish` reads it back: a YAML front matter block (written by PyYAML's safe dumper,
    so any title survives), then its source (Markdown, or HTML with `format: html`)."""
    meta: dict[str, object] = {
        "title": post.title,
        "slug": post.slug,
        "kind": post.kind.value,
        "date": to_text(post.published_at),
        "draft": post.draft,
        "language": post.language,
        "comments": "open" if post.comments_open else "closed",
        "format": post.body_format.value,
    }
    if post.tags:
        meta["tags"] = list(post.tags)
    if post.categories:
        meta["categories"] = [category.name for category in post.categories]
    if post.summary:
        meta["summary"] = post.summary
    if post.excerpt:
        meta["excerpt"] = post.excerpt
    if post.kind == PostKind.PAGE:
        meta["menu_order"] = post.menu_order
        meta["menu"] = post.in_menu
    block = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=10_000)
    return f"---\n{block}---\n{post.body_markdown.rstrip()}\n"


def comment_json(item: ExportedComment) -> dict[str, Any]:
    comment, author = item.comment, item.comment.author
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "origin": origin_name(comment),
        "mention_kind": item.mention_kind,
        "status": comment.status.value,
        "created_at": to_text(comment.created_at),
        "author": {
            "name": author.name,
            "email": author.email,
            "website": author.website,
            "profile_url": author.profile_url,
            "actor_id": author.actor_id,
            "handle": author.handle,
        },
        "content_html": comment.content_html,
        "remote_id": comment.remote_id,
        "remote_url": comment.remote_url,
        "ip": comment.ip,
    }


def _file_name(slug: str) -> str:
    """A slug as a file name: nothing that climbs out of the folder or hides the file."""
    safe = slug.replace("/", "_").replace("\\", "_").replace("\x00", "")
    return "_" + safe if safe.startswith(".") or not safe else safe


async def export_markdown(ctx: Context, directory: Path) -> ExportReport:
    """One SLUG.md per post and page in `directory` (made if missing), and SLUG.comments.json beside it when the
    post has comments; raises ExportError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"{directory}: {error.strerror or error}") from None
    store = ExportStore(ctx.db)
    report = ExportReport()
    try:
        async for exported in store.iter_posts():
            post = exported.post
            name = _file_name(post.slug)
            with _private_file(directory / f"{name}.md") as handle:
                handle.write(front_matter_document(post))
            comments = await store.list_comments(post.id)
            if comments:
                with _private_file(directory / f"{name}.comments.json") as handle:
                    json.dump([comment_json(item) for item in comments], handle, ensure_ascii=False, indent=2)
                    handle.write("\n")
            report.count(exported, comments)
    except OSError as error:
        raise ExportError(f"{directory}: {error.strerror or error}") from None
    return report
