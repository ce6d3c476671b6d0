"""What a verified pingback or trackback becomes: one comment of kind pingback/trackback per (source, target), shown
as WordPress shows them (the source's title as a link to it, then the excerpt between "[...]"), moderated like a
webmention. Its author is the source's site: trusted once a ping from that host was approved."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

from fedblog.clock import to_text
from fedblog.models import Comment, CommentKind, CommentOrigin, CommentStatus
from fedblog.protocol import webmention as wm
from fedblog.protocol.addresses import hostname_of
from fedblog.protocol.pingback import SourceContext
from fedblog.services.comments import CommentService, moderation_decision
from fedblog.store.comments import NewComment
from fedblog.store.webmentions import ReceivedJob, ReceivedOutcome, WebmentionStore

if TYPE_CHECKING:
    from fedblog.context import Context

COMMENT_KINDS = {"pingback": CommentKind.PINGBACK, "trackback": CommentKind.TRACKBACK}


def ping_content_html(excerpt: str) -> str:
    """The stored body, as WordPress keeps a ping's: the plain excerpt, escaped, between "[...]"."""
    return f"<p>[…] {html.escape(excerpt)} […]</p>" if excerpt else ""


async def keep_ping(
    ctx: Context, job: ReceivedJob, ping: SourceContext, existing: Comment | None, attempts: int, now: datetime
) -> None:
    store = WebmentionStore(ctx.db)
    content = ping_content_html(ping.excerpt)
    key = hostname_of(job.source)
    status = moderation_decision(ctx.settings.comments.moderation, await store.author_is_trusted(key))
    post = await ctx.posts.get_post_by_id(job.post_id)
    if post is not None and not CommentService(ctx).accepts_comments(post):
        status = CommentStatus.PENDING  # comments closed: the author decides, as for webmentions
    approved: int | None = None
    async with ctx.db.transaction() as conn:
        if existing is not None and existing.post_id == job.post_id:
            comment_id = existing.id
            if existing.author.name != ping.title:
                await store.update_ping_author(conn, existing.author.id, ping.title)
            if existing.content_html != content:
                await ctx.comments.update_content(conn, comment_id, content, "", False, (), to_text(now))
                if existing.status == CommentStatus.APPROVED and status != CommentStatus.APPROVED:
                    await ctx.comments.set_status(conn, comment_id, CommentStatus.PENDING)  # moderated again
                    for listener in ctx.comment_listeners:
                        await listener.comment_removed(conn, existing)
        else:
            author_id = await store.insert_ping_author(conn, ping.title, job.source, now)
            comment_id = await ctx.comments.insert_comment(
                conn,
                NewComment(
                    post_id=job.post_id,
                    parent_id=None,
                    author_id=author_id,
                    origin=CommentOrigin.WEBMENTION,
                    status=status,
                    content_html=content,
                    remote_url=job.source,
                    kind=COMMENT_KINDS[job.protocol],
                ),
            )
            approved = comment_id if status == CommentStatus.APPROVED else None
        # Kind 'reply': a ping sits in the thread and counts as a comment, as WordPress shows it, not under Mentions.
        outcome = ReceivedOutcome("verified", attempts, None, None, wm.REPLY, key, comment_id)
        await store.save_received(conn, job.id, outcome, now)
        if approved is not None:
            comment = await ctx.comments.get_comment(approved)
            assert comment is not None
            for listener in ctx.comment_listeners:
                await listener.comment_approved(conn, comment)
