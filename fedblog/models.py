"""The nouns of fedblog as plain dataclasses; the store builds them, services and templates read them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"


class CommentOrigin(enum.StrEnum):
    WEB = "web"
    FEDIVERSE = "fediverse"
    WEBMENTION = "webmention"
    AUTHOR = "author"


class AuthorKind(enum.StrEnum):
    VISITOR = "visitor"
    REMOTE = "remote"
    OWNER = "owner"


class CommentKind(enum.StrEnum):
    """A comment, or another site's link to the post (shown as WordPress shows them: the source's title as a link,
    its excerpt between "[...]"; the author's name is the title, the author's website the source URL)."""

    COMMENT = "comment"
    PINGBACK = "pingback"
    TRACKBACK = "trackback"


class PostKind(enum.StrEnum):
    """A blog post, or a page: /SLUG/, not in the home list, the feeds or the outbox, maybe in the navigation."""

    POST = "post"
    PAGE = "page"


class BodyFormat(enum.StrEnum):
    """What `Post.body_markdown` (the source) holds: Markdown, or HTML (imported, sanitized into body_html)."""

    MARKDOWN = "markdown"
    HTML = "html"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    DIRECT = "direct"

    @property
    def is_shown_publicly(self) -> bool:
        return self in (Visibility.PUBLIC, Visibility.UNLISTED)


class PostState(enum.StrEnum):
    """Where a post stands. Only a PUBLISHED post is on the site (pages, feeds, sitemap, search), served as a Note,
    in the outbox and delivered; a SCHEDULED one becomes PUBLISHED when its date comes (the worker does it)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


def post_state(draft: bool, published_at: datetime, now: datetime) -> PostState:
    """The one rule: the author's draft flag first, then a date still to come means scheduled."""
    if draft:
        return PostState.DRAFT
    return PostState.SCHEDULED if published_at > now else PostState.PUBLISHED


@dataclass(frozen=True)
class Category:
    """A post category (hierarchical, like WordPress's): a page /category/SLUG/ and a feed; a Hashtag on the
    fediverse."""

    slug: str
    name: str
    id: int = 0
    parent_id: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Post:
    id: int
    slug: str
    title: str
    body_markdown: str
    body_html: str
    summary: str
    language: str
    draft: bool
    published_at: datetime
    updated_at: datetime | None
    tags: tuple[str, ...] = ()
    comment_count: int = 0
    comments_open: bool = True  # the author's choice for this post; see services/comments.accepts_comments
    # `draft` above means "not on the site" (a draft or a scheduled post); `state` says which.
    state: PostState = PostState.PUBLISHED
    # Set when the post first goes public; until then its slug may change (it becomes the Note's id).
    first_published_at: datetime | None = None
    created_at: datetime | None = None

    @property
    def is_public(self) -> bool:
        return self.state is PostState.PUBLISHED

    @property
    def slug_is_editable(self) -> bool:
        return self.first_published_at is None and not self.is_public

    kind: PostKind = PostKind.POST
    menu_order: int = 0  # pages: the navigation's order
    in_menu: bool = False  # pages: linked from the site navigation
    body_format: BodyFormat = BodyFormat.MARKDOWN
    author_name: str | None = None  # another author's display name ("by NAME"); None: the blog's author
    excerpt: str = ""  # a hand-written excerpt for lists (not the content warning, which is `summary`)
    categories: tuple[Category, ...] = ()

    @property
    def is_page(self) -> bool:
        return self.kind == PostKind.PAGE


@dataclass(frozen=True)
class CommentAuthor:
    id: int
    kind: AuthorKind
    name: str
    email: str | None = None
    website: str | None = None
    actor_id: str | None = None
    handle: str | None = None
    avatar_url: str | None = None
    profile_url: str | None = None


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str
    name: str = ""


@dataclass(frozen=True)
class Comment:
    id: int
    post_id: int
    parent_id: int | None
    author: CommentAuthor
    origin: CommentOrigin
    status: CommentStatus
    visibility: Visibility
    content_html: str
    summary: str
    sensitive: bool
    language: str | None
    attachments: tuple[Attachment, ...]
    remote_id: str | None
    remote_url: str | None
    created_at: datetime
    updated_at: datetime | None
    approved_at: datetime | None
    post_slug: str = ""
    post_title: str = ""
    ip: str | None = None  # the web commenter's address, shown to the admin only
    kind: CommentKind = CommentKind.COMMENT
    wp_comment_id: int | None = None  # imported from WordPress (never federated)


@dataclass
class CommentNode:
    """A comment with its approved replies, for threaded display."""

    comment: Comment
    children: list[CommentNode] = field(default_factory=list)
    depth: int = 0


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    inbox: str
    shared_inbox: str | None
    handle: str | None
    name: str
    icon_url: str | None
    url: str | None
    public_key_id: str | None
    public_key_pem: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class Follower:
    actor_id: str
    inbox: str
    shared_inbox: str | None
    handle: str | None
    name: str
    follow_activity_id: str
    follow_json: str
    status: str
    created_at: datetime

    @property
    def delivery_inbox(self) -> str:
        return self.shared_inbox or self.inbox


@dataclass(frozen=True)
class MediaItem:
    """An uploaded image: its file in the media folder and what the fediverse and the pages need to show it."""

    id: int
    file_name: str
    original_name: str
    media_type: str
    width: int
    height: int
    size_bytes: int
    alt_text: str
    blurhash: str
    variant_widths: tuple[int, ...]
    created_at: datetime

    def variant_name(self, width: int) -> str:
        stem, dot, extension = self.file_name.rpartition(".")
        return f"{stem}-{width}{dot}{extension}"

    @property
    def file_names(self) -> tuple[str, ...]:
        return (self.file_name, *(self.variant_name(width) for width in self.variant_widths))
