"""`fedblog import wordpress`: a WXR export into the blog, in one transaction, idempotent, sending nothing.

One streaming pass writes every post, page, term and comment inside ONE transaction on the database thread
(Database.run_transaction): a file that turns out malformed on its last line imports nothing. At its end, what
only the whole file tells is settled: who wrote most posts (the blog's own author; the others keep their name,
"by NAME") and the [gallery] shortcodes whose attachments came later in the file. With `--media download` a first
pass (no writes) lists the media to fetch before the transaction (no network inside it). `--dry-run` runs the same
pass and rolls it back, so its report is exactly what an import would do. Rows are matched on their WordPress ids:
a re-import (or a later export) adds only what is new.

Nothing is sent: no post listener runs (no Create to followers, no webmention); each published post gets its
Create in the outbox, without deliveries, so its Note and activity dereference with the original date.
"""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fedblog.clock import to_text, utcnow
from fedblog.context import Context
from fedblog.models import (
    BodyFormat,
    Category,
    CommentKind,
    CommentOrigin,
    CommentStatus,
    Post,
    PostKind,
    PostState,
    post_state,
)
from fedblog.protocol.activities import create_activity
from fedblog.protocol.hashtags import hashtag_name
from fedblog.protocol.notes import post_to_note
from fedblog.protocol.sanitize import sanitize_html
from fedblog.protocol.wp_content import autop, rewrite_urls, wordpress_to_html
from fedblog.protocol.wxr import WxrAuthor, WxrComment, WxrError, WxrItem, WxrReader, WxrTerm
from fedblog.rendering import html_to_text, sanitize_post_html
from fedblog.services.posts import MAX_TITLE, slugify
from fedblog.store import wordpress as store
from fedblog.store.comments import NewComment
from fedblog.store.posts import PostFields

__all__ = ["ImportReport", "Progress", "WxrError", "import_wordpress"]

PROGRESS_EVERY_ITEMS = 200
_UPLOAD_URL = re.compile(r"""(?:src|href)\s*=\s*["'](https?://[^"'\s<>]+/wp-content/uploads/[^"'\s<>]+)["']""")
_COMMENT_STATES = {"1": CommentStatus.APPROVED, "0": CommentStatus.PENDING, "spam": CommentStatus.SPAM}
_COMMENT_KINDS = {
    "": CommentKind.COMMENT,
    "comment": CommentKind.COMMENT,
    "pingback": CommentKind.PINGBACK,
    "trackback": CommentKind.TRACKBACK,
}


@dataclass
class Progress:
    """What a progress bar shows; `fraction` of the file read."""

    items: int = 0
    posts: int = 0
    comments: int = 0
    media: int = 0
    fraction: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.items / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class ImportReport:
    dry_run: bool = False
    posts: int = 0
    pages: int = 0
    drafts: int = 0
    scheduled: int = 0
    comments: Counter[str] = field(default_factory=Counter)  # by state
    pingbacks: int = 0
    trackbacks: int = 0
    tags: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    media: int = 0
    already_there: Counter[str] = field(default_factory=Counter)  # posts, comments matched by their WordPress id
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    unknown_shortcodes: Counter[str] = field(default_factory=Counter)
    other_authors: set[str] = field(default_factory=set)
    media_failed: Counter[str] = field(default_factory=Counter)  # not downloaded, by reason (old URLs kept)

    def lines(self) -> list[str]:
        comments = ", ".join(f"{n} {state}" for state, n in sorted(self.comments.items())) or "0"
        lines = [
            ("Dry run, nothing written. " if self.dry_run else "") + "WordPress import:",
            f"  posts: {self.posts} (of which drafts: {self.drafts}, scheduled: {self.scheduled}), pages: {self.pages}",
            f"  comments: {comments}; pingbacks: {self.pingbacks}, trackbacks: {self.trackbacks}",
            f"  tags: {len(self.tags)}, categories: {len(self.categories)}, media: {self.media}",
        ]
        if self.other_authors:
            lines.append(f"  other authors (shown as 'by NAME'): {', '.join(sorted(self.other_authors))}")
        if self.already_there:
            found = ", ".join(f"{n} {what}" for what, n in sorted(self.already_there.items()))
            lines.append(f"  already imported (matched by WordPress id, left as they are): {found}")
        if self.skipped:
            lines.append("  skipped: " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())))
        if self.media_failed:
            failed = ", ".join(f"{n} {reason}" for reason, n in sorted(self.media_failed.items()))
            lines.append(f"  media not downloaded (old URLs kept): {failed}")
        if self.unknown_shortcodes:
            names = ", ".join(f"[{name}] ×{n}" for name, n in sorted(self.unknown_shortcodes.items()))
            lines.append(f"  unknown shortcodes, left as text: {names}")
        return lines


@dataclass
class ScanResult:
    """What the first pass learns."""

    attachments: dict[int, str] = field(default_factory=dict)  # WordPress attachment id → URL
    media: list[str] = field(default_factory=list)  # upload URLs: attachments, then those the bodies link to
    creators: Counter[str] = field(default_factory=Counter)
    authors: dict[str, WxrAuthor] = field(default_factory=dict)  # by login
    items: int = 0


class _DryRunDone(Exception):
    """Raised at the end of a dry run's transaction so that everything it wrote is rolled back."""


def scan_export(path: Path) -> ScanResult:
    result = ScanResult()
    with path.open("rb") as stream:
        for record in WxrReader(stream):
            if isinstance(record, WxrAuthor):
                result.authors[record.login] = record
            elif isinstance(record, WxrItem):
                result.items += 1
                if record.post_type == "attachment" and record.attachment_url:
                    result.attachments[record.post_id] = record.attachment_url
                    result.media.append(record.attachment_url)
                elif record.post_type in ("post", "page"):
                    result.creators[record.creator] += 1
                    result.media.extend(_UPLOAD_URL.findall(record.content))
    return result


async def import_wordpress(
    ctx: Context,
    path: Path,
    *,
    dry_run: bool = False,
    media_urls: Mapping[str, str] | None = None,
    scan: ScanResult | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """Import the export at `path`; raises WxrError (nothing written) when the file cannot be imported.
    `media_urls` maps old media URLs to local ones (downloaded media): references are rewritten."""
    importer = _Importer(ctx, scan or ScanResult(), dict(media_urls or {}), dry_run, on_progress)
    try:
        return await store.run_import(ctx.db, lambda writer: importer.run(writer, path))
    except _DryRunDone:
        return importer.report


class _Importer:
    def __init__(
        self,
        ctx: Context,
        scan: ScanResult,
        media_urls: dict[str, str],
        dry_run: bool,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.ctx = ctx
        self.scan = scan
        self.media_urls = media_urls
        self.report = ImportReport(dry_run=dry_run)
        self.on_progress = on_progress
        self.progress = Progress()
        self.creators: dict[int, str] = {}  # new post id → WordPress login
        self.galleries: list[tuple[int, str]] = []  # (new post id, WordPress body) to convert again at the end
        self.authors: dict[tuple[str, str, str], int] = {}
        self.language = ctx.settings.site.language
        self.now = utcnow()

    def run(self, writer: store.ImportWriter, path: Path) -> ImportReport:
        newest_comment_before = writer.newest_comment_id()
        with path.open("rb") as stream:
            size = max(1, path.stat().st_size)
            reader = WxrReader(stream)
            for record in reader:
                if isinstance(record, WxrAuthor):
                    self.scan.authors[record.login] = record
                elif isinstance(record, WxrTerm):
                    self._term(writer, record)
                elif isinstance(record, WxrItem):
                    if reader.channel and reader.channel.language:
                        self.language = _language(reader.channel.language, self.language)
                    self._item(writer, record)
                    self.progress.items += 1
                    if self.on_progress and self.progress.items % PROGRESS_EVERY_ITEMS == 0:
                        self.progress.fraction = reader.bytes_read / size
                        self.on_progress(self.progress)
        self._finish(writer)
        writer.skip_notifications_of_import(newest_comment_before)
        if self.on_progress:
            self.progress.fraction = 1.0
            self.on_progress(self.progress)
        if self.report.dry_run:
            raise _DryRunDone()
        return self.report

    def _finish(self, writer: store.ImportWriter) -> None:
        """What the whole file tells: the blog's own author (who wrote most), and galleries of later attachments."""
        creators = Counter(self.creators.values())
        main_author = creators.most_common(1)[0][0] if creators else ""
        for login in creators:
            if login and login != main_author:
                author = self.scan.authors.get(login)
                name = (author.display_name if author else login)[:100]
                writer.set_author_name([p for p, c in self.creators.items() if c == login], name)
                self.report.other_authors.add(name)
        for old_url, new_url in self.media_urls.items():
            old = _old_path(old_url)
            if old:
                writer.record_old_target(old, urlsplit(new_url).path)
        self.report.media = len(self.media_urls)
        for post_id, content in self.galleries:
            converted = wordpress_to_html(content, self.scan.attachments)
            writer.set_html_body(post_id, sanitize_post_html(rewrite_urls(converted.html, self.media_urls)))

    # Terms
    def _term(self, writer: store.ImportWriter, term: WxrTerm) -> None:
        if term.taxonomy != "category" or not term.slug:
            return
        slug = _slug(term.slug)
        parent = writer.category_id(_slug(term.parent_slug)) if term.parent_slug else None
        writer.upsert_category(slug, _text(term.name, 100) or slug, parent, _text(term.description, 500))
        self.report.categories.add(slug)

    # Items
    def _item(self, writer: store.ImportWriter, item: WxrItem) -> None:
        if item.post_type == "attachment":
            self._attachment(writer, item)
            return
        if item.post_type not in ("post", "page"):
            self.report.skipped[f"items of type {item.post_type}"] += 1
            return
        if item.status in ("trash", "auto-draft", "inherit"):
            self.report.skipped[f"{item.status} {item.post_type}s"] += 1
            return
        existing = writer.post_id_by_wp_id(item.post_id) if item.post_id else None
        if existing is not None:
            self.report.already_there["posts"] += 1
            post_id = existing[0]
        else:
            post_id = self._new_post(writer, item)
        self._comments(writer, item, post_id)

    def _attachment(self, writer: store.ImportWriter, item: WxrItem) -> None:
        if item.attachment_url:
            self.scan.attachments[item.post_id] = item.attachment_url
        if item.attachment_url in self.media_urls:
            self.progress.media += 1

    def _new_post(self, writer: store.ImportWriter, item: WxrItem) -> int:
        kind = PostKind.PAGE if item.post_type == "page" else PostKind.POST
        published_at = item.date or self.now
        # Published posts stay published; drafts, pending, private and password-protected ones become drafts
        # (never shown openly); a future one (or a published one dated later) is scheduled: it goes out, as any
        # scheduled post, when its time comes.
        hidden = item.status not in ("publish", "future") or bool(item.password)
        state = post_state(hidden, published_at, self.now)
        converted = wordpress_to_html(item.content, self.scan.attachments)
        self.report.unknown_shortcodes.update(converted.unknown_shortcodes)
        body_html = sanitize_post_html(rewrite_urls(converted.html, self.media_urls))
        title = _text(item.title, MAX_TITLE) or f"{item.post_type} {item.post_id}"
        slug = self._free_slug(writer, _slug(item.slug) or slugify(title))
        tags = tuple(
            dict.fromkeys(
                t for t in (hashtag_name(term.name) for term in item.terms if term.taxonomy == "post_tag") if t
            )
        )
        categories = self._item_categories(writer, item)
        fields = PostFields(
            slug=slug,
            title=title,
            body_markdown=body_html,
            body_html=body_html,
            summary="",
            language=self.language,
            state=state,
            first_published_at=published_at if state is PostState.PUBLISHED else None,
            published_at=published_at,
            tags=tags,
            comments_open=item.comment_status == "open",
            kind=kind,
            menu_order=item.menu_order,
            in_menu=kind == PostKind.PAGE and item.parent_id == 0,
            body_format=BodyFormat.HTML,
            author_name=None,  # set at the end, once the blog's own author is known
            excerpt=_text(item.excerpt, 1000),
            category_ids=tuple(c.id for c in categories),
            wp_post_id=item.post_id or None,
        )
        post_id = writer.insert_post(fields, tags)
        self.creators[post_id] = item.creator
        if "[gallery" in item.content:
            self.galleries.append((post_id, item.content))
        writer.record_old_links(post_id, self._old_paths(item))
        for term in item.terms:
            if term.taxonomy == "post_tag" and term.slug and hashtag_name(term.name):
                writer.record_old_target(
                    f"/tag/{_slug(term.slug)}", urlsplit(self.ctx.urls.tag(hashtag_name(term.name))).path
                )
        self.report.tags.update(tags)
        if kind == PostKind.PAGE:
            self.report.pages += 1
        else:
            self.report.posts += 1
            self.progress.posts += 1
        if state is PostState.DRAFT:
            self.report.drafts += 1
        elif state is PostState.SCHEDULED:
            self.report.scheduled += 1
        elif kind == PostKind.POST:
            self._outbox(writer, post_id, fields, categories)
        return post_id

    def _item_categories(self, writer: store.ImportWriter, item: WxrItem) -> list[Category]:
        found = []
        for term in item.terms:
            if term.taxonomy != "category":
                continue
            slug = _slug(term.slug) or slugify(term.name)
            category_id = writer.category_id(slug) or writer.upsert_category(
                slug, _text(term.name, 100) or slug, None, ""
            )
            found.append(Category(slug=slug, name=_text(term.name, 100) or slug, id=category_id))
            self.report.categories.add(slug)
        return found

    def _free_slug(self, writer: store.ImportWriter, slug: str) -> str:
        candidate, number = slug, 2
        while writer.slug_taken(candidate):
            candidate, number = f"{slug}-{number}", number + 1
        return candidate

    def _old_paths(self, item: WxrItem) -> list[str]:
        paths = [_old_path(item.link), _old_path(item.guid)]
        if item.slug:
            paths.append("/" + unquote(item.slug).strip("/"))
        return [p for p in dict.fromkeys(paths) if p and p != "/"]

    def _outbox(self, writer: store.ImportWriter, post_id: int, fields: PostFields, categories: list[Category]) -> None:
        post = Post(
            id=post_id,
            slug=fields.slug,
            title=fields.title,
            body_markdown=fields.body_markdown,
            body_html=fields.body_html,
            summary="",
            language=fields.language,
            draft=False,
            published_at=fields.published_at,
            updated_at=None,
            tags=fields.tags,
            categories=tuple(categories),
        )
        urls = self.ctx.urls
        note = post_to_note(urls, post, quote_policy=self.ctx.settings.federation.quote_policy)
        activity = create_activity(urls, urls.activity("create", uuid.uuid4().hex), note)
        writer.insert_outbox_create(
            activity["id"], urls.note(post.slug), json.dumps(activity), to_text(fields.published_at)
        )

    # Comments
    def _comments(self, writer: store.ImportWriter, item: WxrItem, post_id: int) -> None:
        local_ids: dict[int, int] = {}
        new: list[WxrComment] = []
        for comment in item.comments:
            kind = _COMMENT_KINDS.get(comment.type)
            if kind is None:
                self.report.skipped[f"comments of type {comment.type}"] += 1
                continue
            status = _COMMENT_STATES.get(comment.approved)
            if status is None:
                self.report.skipped["comments in the trash"] += 1
                continue
            existing = writer.comment_id_by_wp_id(comment.id) if comment.id else None
            if existing is not None:
                self.report.already_there["comments"] += 1
                local_ids[comment.id] = existing
                continue
            local_ids[comment.id] = self._insert_comment(writer, post_id, comment, kind, status)
            new.append(comment)
        writer.set_comment_parents(
            [
                (local_ids[comment.id], local_ids[comment.parent_id])
                for comment in new
                if comment.parent_id and comment.parent_id in local_ids
            ],
        )

    def _insert_comment(
        self, writer: store.ImportWriter, post_id: int, comment: WxrComment, kind: CommentKind, status: CommentStatus
    ) -> int:
        name = _text(comment.author, 100) or ("Anonymous" if kind == CommentKind.COMMENT else comment.author_url)
        email = comment.author_email.strip().lower()[:254]
        website = comment.author_url.strip() if re.match(r"https?://", comment.author_url.strip()) else None
        key = (name, email, website or "")
        author_id = self.authors.get(key)
        if author_id is None:
            author_id = self.authors[key] = writer.visitor_author(name, email, website)
        created = to_text(comment.date)
        comment_id = writer.insert_comment(
            NewComment(
                post_id=post_id,
                parent_id=None,
                author_id=author_id,
                origin=CommentOrigin.WEB,
                status=status,
                content_html=sanitize_html(autop(rewrite_urls(comment.content, self.media_urls))),
                language=None,
                ip=comment.author_ip or None,
                created_at=created,
                approved_at=created,
                kind=kind,
                wp_comment_id=comment.id or None,
            ),
        )
        if kind == CommentKind.PINGBACK:
            self.report.pingbacks += 1
        elif kind == CommentKind.TRACKBACK:
            self.report.trackbacks += 1
        else:
            self.report.comments[status.value] += 1
        self.progress.comments += 1
        return comment_id


def _text(value: str, limit: int) -> str:
    """Text from WordPress HTML-ish fields (titles, names): tags dropped, entities decoded, spaces collapsed."""
    return html_to_text(value)[:limit].strip()


def _slug(wordpress_slug: str) -> str:
    """A WordPress slug (percent-encoded UTF-8 for non-ASCII titles) as a fedblog slug."""
    decoded = unquote(wordpress_slug.strip())
    return slugify(decoded) if decoded else ""


def _old_path(url: str) -> str:
    """The path (and query) an old URL answered at, without the trailing slash; '' for what is not a URL."""
    if not url:
        return ""
    parts = urlsplit(html.unescape(url.strip()))
    if parts.scheme not in ("http", "https", ""):
        return ""
    path = unquote(parts.path).rstrip("/") or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _language(channel_language: str, default: str) -> str:
    """WordPress says 'fr-FR' (or 'fr'): fedblog keeps the language code."""
    code = channel_language.strip().split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else default
