"""Rendered comments kept between renders of a post page, so that the page read after a new reply renders that
reply only and joins the others (a 5,000-comment thread took seconds to render whole after every commit).

A fragment is reused only for a comment EQUAL to the one it was rendered from (every field, its author's too:
an edit, a new name or avatar renders it again), for the same page language, post, reply links and edit link.
What is kept to compare with is the comment's hash, not the comment: the comments of a 10,000-comment thread,
kept beside their fragments, were as large as the fragments (a 64-bit hash makes a mistaken match vanishingly
unlikely). Settings changed from the admin (the author's name and avatar, gravatar) empty the cache. Bounded
by bytes.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass, field

from aiohttp import web
from markupsafe import Markup

from fedblog.models import Comment
from fedblog.web.keys import STATE_KEY, get_context

MAX_BYTES = 16 * 1024 * 1024  # server.comment_cache_mb's default
MIB = 1024 * 1024

# (comment id, page language, post slug, reply links shown, edit link shown)
FragmentKey = tuple[int, str, str, bool, bool]


@dataclass
class FragmentCache:
    max_bytes: int = MAX_BYTES
    settings: object | None = None  # the settings the fragments were rendered with
    _entries: OrderedDict[FragmentKey, tuple[int, Markup]] = field(default_factory=OrderedDict)
    _bytes: int = 0
    # The render using the cache now (renders do not interleave: a template renders without awaiting) and the first
    # entry it used: it and every entry after it in _entries are that render's.
    _render: object = None
    _first_of_render: FragmentKey | None = None

    def get(self, key: FragmentKey, comment: Comment, render: object = None) -> Markup | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != hash(comment):
            return None
        self._entries.move_to_end(key)
        self._touched(key, render)
        return entry[1]

    def put(self, key: FragmentKey, comment: Comment, html: Markup, render: object = None) -> None:
        """Keep `html` for `key`; when the budget is full, the least recently used go first, but never one the
        same render (a page being rendered, `render`) used: a thread larger than the budget then keeps what fits,
        reused by its next render, instead of each new fragment evicting the one the next render needs first (a
        10,000-comment thread in 16 MB: 9,690 kept and none ever reused)."""
        size = _size(html)
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= _size(old[1])
        self._entries[key] = (hash(comment), html)
        self._bytes += size
        self._touched(key, render)
        while self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            if render is not None and oldest == self._first_of_render:  # the rest is this render's: keep it
                self._drop(key)
                return
            self._drop(oldest)

    def _touched(self, key: FragmentKey, render: object) -> None:
        """Entries move to the end when used: those `render` used are the first one it used and all after it."""
        if render is None:
            return
        if render is not self._render or self._first_of_render is None:
            self._render, self._first_of_render = render, key

    def _drop(self, key: FragmentKey) -> None:
        self._bytes -= _size(self._entries.pop(key)[1])
        if key == self._first_of_render:  # nothing of that render is left before the end
            self._first_of_render = None

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._first_of_render = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held(self) -> int:
        """Bytes held, as counted against max_bytes."""
        return self._bytes


# What an entry holds beside its fragment: the key's tuple, the (hash, fragment) pair, their ints, the
# OrderedDict's slot and link (~250 bytes by tracemalloc, and the table's spare slots: see its unit test).
ENTRY_BYTES = 384


def _size(html: Markup) -> int:
    """Bytes held: the fragment as Python stores it (one, two or four bytes a character, the widest character
    deciding for the whole string: one emoji makes a fragment four times its length), its key and its entry."""
    return sys.getsizeof(html) + ENTRY_BYTES


@dataclass(frozen=True, eq=False)  # one per render, told apart by identity
class PageFragments:
    """What one render of one post page uses (`comment_fragments` in blog/_thread.html)."""

    cache: FragmentCache
    language: str
    slug: str

    def get(self, comment: Comment, can_reply: bool, own: bool) -> Markup | None:
        return self.cache.get((comment.id, self.language, self.slug, bool(can_reply), bool(own)), comment, self)

    def put(self, comment: Comment, can_reply: bool, own: bool, html: Markup) -> Markup:
        self.cache.put((comment.id, self.language, self.slug, bool(can_reply), bool(own)), comment, html, self)
        return html


def page_fragments(request: web.Request, slug: str) -> PageFragments:
    state = request.app[STATE_KEY]
    ctx = get_context(request)
    if state.comment_fragments is None:
        state.comment_fragments = FragmentCache(max_bytes=ctx.settings.server.comment_cache_mb * MIB)
    cache = state.comment_fragments
    if cache.settings is not ctx.settings:  # changed from the admin: names, avatars, gravatar may differ
        cache.clear()
        cache.settings = ctx.settings
    return PageFragments(cache, ctx.i18n.language, slug)
