"""The page cache's bounds and the thread walk used by the post page."""

from __future__ import annotations

from datetime import UTC, datetime

from fedblog.models import AuthorKind, Comment, CommentAuthor, CommentOrigin, CommentStatus, Visibility
from fedblog.services.comments import build_thread
from fedblog.web.page_cache import (
    CSRF_PLACEHOLDER,
    TOKEN_RENEWAL_SECONDS,
    CachedPage,
    PageCache,
    response_from_page,
)
from fedblog.web.post_page import thread_steps


def page(size: int) -> CachedPage:
    return CachedPage(body=b"x" * size, content_type="text/html")


def test_page_cache__evicts_least_recently_used_beyond_max_entries() -> None:
    cache = PageCache(max_entries=2)
    cache.put(("/a", "en", 1), page(1))
    cache.put(("/b", "en", 1), page(1))
    assert cache.get(("/a", "en", 1)) is not None  # /a is now the most recent
    cache.put(("/c", "en", 1), page(1))
    assert cache.get(("/b", "en", 1)) is None
    assert cache.get(("/a", "en", 1)) is not None and cache.get(("/c", "en", 1)) is not None


def test_page_cache__bounded_by_total_bytes() -> None:
    cache = PageCache(max_entries=100, max_bytes=10)
    for number in range(5):
        cache.put((f"/{number}", "en", 1), page(4))
    assert len(cache) == 2
    cache.put(("/huge", "en", 1), page(11))
    assert cache.get(("/huge", "en", 1)) is None


def test_page_cache__new_data_version_is_a_different_entry() -> None:
    cache = PageCache()
    cache.put(("/", "en", 1), page(1))
    assert cache.get(("/", "en", 2)) is None


def test_response_from_page__puts_a_token_in_place_of_the_placeholder_and_renews_it() -> None:
    cached = CachedPage(
        body=f'<input value="{CSRF_PLACEHOLDER}"><p>after</p>'.encode(), content_type="text/html", has_placeholder=True
    )
    tokens = iter(["one", "two"])

    first = response_from_page(cached, lambda: next(tokens), now=1000.0)
    within = response_from_page(cached, lambda: next(tokens), now=1000.0 + TOKEN_RENEWAL_SECONDS - 1)
    renewed = response_from_page(cached, lambda: next(tokens), now=1000.0 + TOKEN_RENEWAL_SECONDS)

    assert first.body == within.body == b'<input value="one"><p>after</p>'
    assert renewed.body == b'<input value="two"><p>after</p>'
    assert first.headers["Content-Type"] == "text/html"


def test_page_cache__a_page_with_a_form_is_held_once() -> None:
    cache = PageCache(max_entries=100, max_bytes=100)
    with_form = CachedPage(body=CSRF_PLACEHOLDER.encode() + b"x" * 10, content_type="text/html", has_placeholder=True)
    cache.put(("/form", "en", 1), with_form)
    cache.put(("/plain", "en", 1), page(40))
    assert with_form.size == 32 and len(cache) == 2  # 32 + 40 ≤ 100: the page's parts are not a second copy
    cache.put(("/more", "en", 1), page(40))
    assert cache.get(("/form", "en", 1)) is None  # 32 + 40 + 40 > 100: the least recent went


def test_response_from_page__tokens_of_any_length_in_every_placeholder() -> None:
    cached = CachedPage(
        body=f"<a>{CSRF_PLACEHOLDER}</a><b>{CSRF_PLACEHOLDER}</b>end".encode(), content_type="text/html",
        has_placeholder=True,
    )  # fmt: skip
    tokens = iter(["short", "a-token-much-longer-than-the-placeholder-it-replaces", "t"])
    bodies = [response_from_page(cached, lambda: next(tokens), now=n * TOKEN_RENEWAL_SECONDS).body for n in (1, 2, 3)]
    assert bodies == [
        b"<a>short</a><b>short</b>end",
        b"<a>a-token-much-longer-than-the-placeholder-it-replaces</a>"
        b"<b>a-token-much-longer-than-the-placeholder-it-replaces</b>end",
        b"<a>t</a><b>t</b>end",
    ]


def test_page_cache__a_new_version_of_a_page_replaces_the_older_one() -> None:
    cache = PageCache(max_entries=100, max_bytes=1000)
    for version in range(1, 6):  # a thread re-rendered after each new comment
        cache.put(("/posts/long", "en", version), page(100))
    cache.put(("/posts/long", "fr", 5), page(100))
    cache.put(("/", "en", 5), page(100))
    assert len(cache) == 3
    assert cache.get(("/posts/long", "en", 5)) is not None and cache.get(("/posts/long", "fr", 5)) is not None
    assert all(cache.get(("/posts/long", "en", version)) is None for version in range(1, 5))


def test_page_cache__never_holds_more_than_its_bounds() -> None:
    cache = PageCache(max_entries=8, max_bytes=1000)
    for number in range(300):
        cache.put((f"/{number % 40}", "en", number // 40), page(37 + number % 90))
        held = sum(entry.size for entry in (cache.get(key) for key in cache.cached_keys()) if entry is not None)
        assert len(cache) <= 8 and held <= 1000


def comment(comment_id: int, parent_id: int | None) -> Comment:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return Comment(
        id=comment_id,
        post_id=1,
        parent_id=parent_id,
        author=CommentAuthor(id=1, kind=AuthorKind.VISITOR, name="A"),
        origin=CommentOrigin.WEB,
        status=CommentStatus.APPROVED,
        visibility=Visibility.PUBLIC,
        content_html="<p>x</p>",
        summary="",
        sensitive=False,
        language=None,
        attachments=(),
        remote_id=None,
        remote_url=None,
        created_at=now,
        updated_at=None,
        approved_at=now,
    )


def test_thread_steps__open_and_close_in_display_order() -> None:
    thread = build_thread([comment(1, None), comment(2, 1), comment(3, 2), comment(4, None)])
    steps = [(step.node.comment.id, step.start) for step in thread_steps(thread)]
    assert steps == [(1, True), (2, True), (3, True), (3, False), (2, False), (1, False), (4, True), (4, False)]


def test_thread_steps__very_deep_thread_needs_no_recursion() -> None:
    depth = 5000
    thread = build_thread([comment(1, None)] + [comment(number, number - 1) for number in range(2, depth + 1)])
    steps = list(thread_steps(thread))
    assert sum(1 for step in steps if step.start) == depth
    assert steps[depth - 1].node.depth == depth - 1
