"""The moderation queue at scale: one page of a filtered queue, and one action on many comments at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fedblog.models import Comment
from fedblog.rendering import excerpt
from fedblog.services.comments import CommentService
from fedblog.store.backfill import BackfillStore
from fedblog.store.moderation import ModerationStore, QueueFilter
from fedblog.store.reports import Report, ReportStore

if TYPE_CHECKING:
    from fedblog.context import Context

BULK_ACTIONS = ("approve", "spam", "delete")
MAX_BULK = 200  # one page of the queue and then some; a bigger batch would hold the writer too long


@dataclass(frozen=True)
class ParentGist:
    """What the queue shows of the comment a reply answers: "in reply to NAME: first words"."""

    name: str
    words: str


@dataclass(frozen=True)
class QueuePage:
    comments: list[Comment]
    total: int
    parents: dict[int, ParentGist]
    found_by_backfill: set[int] = field(default_factory=set)  # ids of the comments a thread crawl found
    reports: dict[int, list[Report]] = field(default_factory=dict)  # Flags from other servers, by comment


async def queue_page(ctx: Context, queue: QueueFilter, limit: int, offset: int) -> QueuePage:
    store = ModerationStore(ctx.db)
    comments = await store.list_queue(queue, limit, offset)
    parent_ids = sorted({comment.parent_id for comment in comments if comment.parent_id is not None})
    parents = {
        parent_id: ParentGist(name, excerpt(content, 60))
        for parent_id, (name, content) in (await store.parents_of(parent_ids)).items()
    }
    ids = [comment.id for comment in comments]
    found = await BackfillStore(ctx.db).found_among(ids)
    reports = await ReportStore(ctx.db).about_comments(ids)
    return QueuePage(comments, await store.count_queue(queue), parents, found, reports)


async def moderate_many(ctx: Context, comment_ids: list[int], action: str) -> int:
    """Approve, mark as spam or delete each comment (through CommentService, so listeners federate each change);
    ids that no longer exist are skipped. Returns how many were changed."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    service = CommentService(ctx)
    done = 0
    for comment_id in dict.fromkeys(comment_ids[:MAX_BULK]):
        if await ctx.comments.get_comment(comment_id) is None:
            continue
        if action == "approve":
            await service.approve(comment_id)
        elif action == "spam":
            await service.mark_spam(comment_id)
        else:
            await service.delete(comment_id)
        done += 1
    return done
