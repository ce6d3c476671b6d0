"""Where a reply goes in a thread: a post, under one of its comments, or nowhere of ours.

An `inReplyTo` names one of our posts (its Note id), one of our comments (/comments/<id>) or a remote object
stored as a comment here. An unknown remote object is an ancestor to fetch: `resolve_place` walks up the chain
within the reply's `ChainBudget` (MAX_CHAIN_DEPTH, MAX_CHAIN_FETCHES, a visited set against cycles), handing each
ancestor to the caller's `store_ancestor` (services/replies stores it as a comment, itself placed here).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from fedblog.protocol.ids import parse_positive_int
from fedblog.store import threads

if TYPE_CHECKING:
    from fedblog.context import Context

MAX_CHAIN_DEPTH = 20
MAX_CHAIN_FETCHES = 20


@dataclass(frozen=True)
class ThreadPlace:
    """Where a reply goes: a post, under a comment or at the top."""

    post_id: int
    parent_id: int | None


@dataclass
class ChainBudget:
    """Requests and depth left for fetching one reply's ancestors; ids seen, against cycles."""

    fetches_left: int = MAX_CHAIN_FETCHES
    visited: set[str] = field(default_factory=set)
    found_by_backfill: bool = False  # a thread crawl's find (services/backfill.py), and its ancestors


@dataclass(frozen=True)
class ThreadRef:
    """What an inReplyTo names, before the database says whether it exists."""

    kind: str  # "post" (by slug), "comment" (one of ours, by id) or "remote" (a remote object, by id)
    key: str


# Fetches the remote object at the URL and stores it as a comment; its place, or None when it has none.
StoreAncestor = Callable[["Context", str, ChainBudget], Awaitable[ThreadPlace | None]]


def thread_ref(ctx: Context, url: str) -> ThreadRef | None:
    """The post, comment or remote object `url` names; None for a local URL that is neither post nor comment."""
    path = ctx.urls.local_path(url)
    if path is None:
        return ThreadRef("remote", url)
    path = path.split("?", 1)[0]
    if path.startswith("/posts/") and "/" not in path[len("/posts/") :]:
        return ThreadRef("post", unquote(path[len("/posts/") :]))
    if path.startswith("/comments/"):
        comment_id = parse_positive_int(path[len("/comments/") :])  # a peer's number: bounded ASCII digits
        return None if comment_id is None else ThreadRef("comment", str(comment_id))
    return None


async def find_place(ctx: Context, ref: ThreadRef) -> ThreadPlace | None:
    """The place `ref` names if it is stored here."""
    found = await threads.place_of(ctx.db, ref.kind, ref.key)
    return None if found is None else ThreadPlace(*found)


async def stored_place(ctx: Context, url: str) -> ThreadPlace | None:
    """The place of the post, comment or remote comment `url` names, if it is stored here."""
    ref = thread_ref(ctx, url)
    return None if ref is None else await find_place(ctx, ref)


async def local_place(ctx: Context, url: str) -> ThreadPlace | None:
    """One of our posts (its Note id) or comments (/comments/<id>) as a place in a thread."""
    ref = thread_ref(ctx, url)
    if ref is None or ref.kind == "remote":
        return None
    return await find_place(ctx, ref)


async def resolve_place(
    ctx: Context, in_reply_to: str | None, budget: ChainBudget, store_ancestor: StoreAncestor
) -> ThreadPlace | None:
    """Where a reply to `in_reply_to` goes, fetching and storing unknown ancestors; None if not our thread."""
    if not in_reply_to or in_reply_to in budget.visited:
        return None
    budget.visited.add(in_reply_to)
    ref = thread_ref(ctx, in_reply_to)
    if ref is None:
        return None
    known = await find_place(ctx, ref)
    if known is not None or ref.kind != "remote":
        return known
    if budget.fetches_left <= 0 or len(budget.visited) > MAX_CHAIN_DEPTH:
        return None
    budget.fetches_left -= 1
    return await store_ancestor(ctx, in_reply_to, budget)
