"""What a visitor's browser remembers: the comments they wrote here, and (if they ask) their name, e-mail, website.

`fedblog_own` lists the visitor's comments, each as `<id>.<mac>`; the MAC binds the id to the comment's creation
time, so a cookie for a deleted comment never fits a later comment that SQLite gave the same id. It lets the writer
see their held comments on every visit and edit or delete a comment within comments.edit_window_minutes.
`fedblog_details` is only set when the visitor ticks "Remember my details in this browser": the form is
filled from it, nothing is kept on the server. Both are HttpOnly, SameSite=Lax.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from fedblog.clock import to_text, utcnow
from fedblog.models import Comment, CommentStatus, Post
from fedblog.services.comments import MAX_EMAIL, MAX_NAME, MAX_WEBSITE, CommentForm
from fedblog.web.keys import SETTINGS_KEY, STATE_KEY, get_context
from fedblog.web.visitor_secret import site_secret

OWN_COOKIE = "fedblog_own"
OWN_LIFETIME_SECONDS = 90 * 24 * 3600
MAX_OWN = 20
DETAILS_COOKIE = "fedblog_details"
DETAILS_LIFETIME_SECONDS = 365 * 24 * 3600


def visitor_now(app: web.Application) -> datetime:
    """The edit window's clock: tests set app[STATE_KEY].visitor_clock to see it close without waiting."""
    clock = app[STATE_KEY].visitor_clock or utcnow
    return clock()


def _own_mac(secret: bytes, comment: Comment) -> str:
    message = f"own-comment\x00{comment.id}\x00{to_text(comment.created_at)}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret, message, hashlib.sha256).digest()[:15]).decode()


def _own_entries(request: web.Request) -> dict[int, str]:
    """id -> MAC as the cookie claims them (not yet checked), oldest first."""
    entries: dict[int, str] = {}
    for item in request.cookies.get(OWN_COOKIE, "").split(":")[-MAX_OWN:]:
        comment_id, _, mac = item.partition(".")
        if comment_id.isdigit() and len(comment_id) <= 18 and mac:
            entries[int(comment_id)] = mac
    return entries


async def own_comments(request: web.Request) -> list[Comment]:
    """The visitor's comments that still exist, checked against their MACs."""
    entries = _own_entries(request)
    if not entries:
        return []
    secret = site_secret(request.app)
    comments = await get_context(request).comments.get_comments(list(entries))
    return [c for c in comments if hmac.compare_digest(_own_mac(secret, c), entries.get(c.id, ""))]


def remember_own_comment(request: web.Request, response: web.StreamResponse, comment: Comment) -> None:
    entries = [f"{cid}.{mac}" for cid, mac in _own_entries(request).items() if cid != comment.id]
    entries.append(f"{comment.id}.{_own_mac(site_secret(request.app), comment)}")
    response.set_cookie(
        OWN_COOKIE,
        ":".join(entries[-MAX_OWN:]),
        max_age=OWN_LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS_KEY].is_https,
    )


def edit_deadline(comment: Comment, window_minutes: int) -> datetime:
    return comment.created_at + timedelta(minutes=window_minutes)


def can_edit(comment: Comment, window_minutes: int, now: datetime) -> bool:
    """Within the window after posting, and not spam; the writer's cookie is checked by the caller."""
    if window_minutes <= 0 or comment.status == CommentStatus.SPAM:
        return False
    return now < edit_deadline(comment, window_minutes)


async def editable_own_comment(request: web.Request, comment_id: int) -> Comment | None:
    """The comment when this browser wrote it and may still change it, else None."""
    window = request.app[SETTINGS_KEY].comments.edit_window_minutes
    for comment in await own_comments(request):
        if comment.id == comment_id and can_edit(comment, window, visitor_now(request.app)):
            return comment
    return None


@dataclass(frozen=True)
class SavedDetails:
    name: str = ""
    email: str = ""
    website: str = ""


def read_details(request: web.Request) -> SavedDetails | None:
    raw = request.cookies.get(DETAILS_COOKIE, "")
    if not raw or len(raw) > 2048:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict):
        return None

    def text(key: str, limit: int) -> str:
        value = data.get(key, "")
        return value[:limit] if isinstance(value, str) else ""

    return SavedDetails(text("name", MAX_NAME), text("email", MAX_EMAIL), text("website", MAX_WEBSITE))


def save_details(request: web.Request, response: web.StreamResponse, details: SavedDetails) -> None:
    value = json.dumps({"name": details.name, "email": details.email, "website": details.website})
    response.set_cookie(
        DETAILS_COOKIE,
        base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),  # no quoting needed
        max_age=DETAILS_LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS_KEY].is_https,
    )


def forget_details(response: web.StreamResponse) -> None:
    response.del_cookie(DETAILS_COOKIE, path="/")


@dataclass(frozen=True)
class PersonalView:
    """What this browser sees on a post page beyond the public one."""

    held: tuple[Comment, ...]
    editable: frozenset[int]
    form_values: CommentForm
    remember: bool


async def personal_view(request: web.Request, post: Post) -> PersonalView | None:
    """None when this browser would see the public page (so it can come from the cache)."""
    window = request.app[SETTINGS_KEY].comments.edit_window_minutes
    mine = [comment for comment in await own_comments(request) if comment.post_id == post.id]
    held = tuple(comment for comment in mine if comment.status == CommentStatus.PENDING)
    now = visitor_now(request.app)
    editable = frozenset(comment.id for comment in mine if can_edit(comment, window, now))
    details = read_details(request)
    if not held and not editable and details is None:
        return None
    values = CommentForm() if details is None else CommentForm(details.name, details.email, details.website)
    return PersonalView(held, editable, values, details is not None)
