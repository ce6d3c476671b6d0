"""Flag activities: reports from other servers' moderators about a comment on the blog (or the blog itself), kept
for the admin with the reporter and the reason, never shown publicly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fedblog.models import Comment
from fedblog.protocol.activitystreams import first_id
from fedblog.protocol.sanitize import plain_text
from fedblog.services.incoming import IncomingActivity
from fedblog.services.thread_placement import stored_place
from fedblog.store.reports import Report, ReportStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

MAX_SUBJECTS = 20  # a report names an account and a few of its posts; more is not a report we act on
MAX_REASON_CHARS = 1000
LIST_LIMIT = 200


def named_ids(value: Any) -> list[str]:
    """The ids a Flag's `object` names (strings or embedded objects), at most MAX_SUBJECTS, without repeats."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items[:MAX_SUBJECTS]:
        object_id = first_id(item)
        if object_id and object_id not in found:
            found.append(object_id)
    return found


async def reported_subjects(ctx: Context, ids: list[str]) -> list[tuple[str, int | None]]:
    """The named ids that are ours: (id, the comment) for a comment, (id, None) for the blog's actor or a post."""
    subjects: list[tuple[str, int | None]] = []
    for object_id in ids:
        if object_id == ctx.urls.actor():
            subjects.append((object_id, None))
            continue
        place = await stored_place(ctx, object_id)
        if place is not None:
            subjects.append((object_id, place.parent_id))
    return subjects


async def on_flag(ctx: Context, activity: IncomingActivity) -> None:
    if activity.signer_id != activity.actor_id:
        return  # a report is sent by the reporting server itself, never forwarded
    subjects = await reported_subjects(ctx, named_ids(activity.object))
    if not subjects:
        log.info("report %r names nothing of this blog", activity.id[:200])
        return
    reason = plain_text(activity.raw.get("content"), MAX_REASON_CHARS)
    store = ReportStore(ctx.db)
    async with ctx.db.transaction() as conn:
        for subject_id, comment_id in subjects:
            await store.add(conn, activity.id, activity.actor_id, reason, subject_id, comment_id)


@dataclass(frozen=True)
class ReportView:
    report: Report
    comment: Comment | None


async def recent_reports(ctx: Context) -> list[ReportView]:
    """The reports the admin sees, newest first, each with the reported comment when it still exists."""
    views = []
    for report in await ReportStore(ctx.db).list_recent(LIST_LIMIT):
        comment = await ctx.comments.get_comment(report.comment_id) if report.comment_id is not None else None
        views.append(ReportView(report, comment))
    return views


async def dismiss_report(ctx: Context, report_id: int) -> bool:
    async with ctx.db.transaction() as conn:
        return await ReportStore(ctx.db).dismiss(conn, report_id)
