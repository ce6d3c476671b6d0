"""The rendered-comment cache's bound (web/comment_fragments.py): the memory it holds, measured by tracemalloc,
stays within its budget whatever the comments are written in."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

from markupsafe import Markup

from fedblog.models import AuthorKind, Comment, CommentAuthor, CommentOrigin, CommentStatus, Visibility
from fedblog.web.comment_fragments import FragmentCache

BUDGET = 2_000_000
NOW = datetime(2025, 1, 1, tzinfo=UTC)
AUTHOR = CommentAuthor(id=1, kind=AuthorKind.VISITOR, name="A")


def comment(comment_id: int) -> Comment:
    return Comment(
        id=comment_id, post_id=1, parent_id=None, author=AUTHOR, origin=CommentOrigin.WEB,
        status=CommentStatus.APPROVED, visibility=Visibility.PUBLIC, content_html="<p>x</p>", summary="",
        sensitive=False, language=None, attachments=(), remote_id=None, remote_url=None, created_at=NOW,
        updated_at=None, approved_at=NOW,
    )  # fmt: skip


def held_by(cache: FragmentCache, text: str, count: int) -> int:
    """Bytes traced once `count` fragments like `text` (each a string of its own) were put in the cache."""
    language, slug = "en", "a-post"

    def fill(into: FragmentCache, numbers: range) -> None:
        for number in numbers:
            fragment = Markup(f'<article id="comment-{number}">{text}</article>')
            into.put((number, language, slug, True, False), comment(number), fragment)

    fill(FragmentCache(), range(50))  # what the first use allocates once (type caches) is not the cache's
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill(cache, range(100_000, 100_000 + count))
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_fragment_cache__holds_no_more_than_its_budget_in_ascii() -> None:
    cache = FragmentCache(max_bytes=BUDGET)
    held = held_by(cache, "<p>" + "A plain reply. " * 60 + "</p>", 5_000)
    assert held <= BUDGET
    assert held >= BUDGET * 0.8  # it is used: the entry's bookkeeping is not counted many times over


def test_fragment_cache__holds_no_more_than_its_budget_when_comments_have_emoji() -> None:
    # One character beyond the Basic Multilingual Plane makes Python keep every character of the string in four
    # bytes: counted by characters, the cache held four times its budget.
    cache = FragmentCache(max_bytes=BUDGET)
    held = held_by(cache, "<p>" + "Merci beaucoup ! " * 60 + "\N{SMILING FACE WITH SMILING EYES}</p>", 5_000)
    assert held <= BUDGET


def test_fragment_cache__a_fragment_larger_than_the_budget_is_not_kept() -> None:
    cache = FragmentCache(max_bytes=1_000)
    cache.put((1, "en", "a-post", True, False), comment(1), Markup("x" * 2_000))
    assert len(cache) == 0


def render(cache: FragmentCache, count: int) -> int:
    """One render of a page of `count` comments, as blog/_thread.html does it; how many fragments it reused."""
    token = object()
    reused = 0
    for number in range(1, count + 1):
        key = (number, "en", "a-post", True, False)
        if cache.get(key, comment(number), token) is not None:
            reused += 1
        else:
            cache.put(key, comment(number), Markup(f"<article>{number}</article>" + "x" * 400), token)
    return reused


def test_fragment_cache__a_thread_larger_than_the_budget_keeps_and_reuses_what_fits() -> None:
    # Given a budget for about 20 fragments and a thread of 30 comments rendered once
    cache = FragmentCache(max_bytes=20 * 900)
    render(cache, 30)
    held = len(cache)
    assert 15 <= held < 30 and cache.held <= cache.max_bytes
    # When the page is rendered again (a new reply elsewhere on the site changed the database)
    reused = render(cache, 30)
    # Then the fragments kept are reused, not each evicted by the one rendered before it (least recently used
    # alone reused none: each miss evicted the fragment the render needed next)
    assert reused == held
    assert render(cache, 30) == held


def test_fragment_cache__another_page_still_takes_the_room_of_the_least_recent() -> None:
    cache = FragmentCache(max_bytes=20 * 900)
    render(cache, 10)
    other = object()
    for number in range(1_000, 1_015):  # a second page of 15 comments: the first page's oldest make room
        cache.put((number, "en", "other", True, False), comment(number), Markup("y" * 400), other)
    assert len(cache) >= 15
    assert all(cache.get((number, "en", "other", True, False), comment(number)) for number in range(1_000, 1_015))
