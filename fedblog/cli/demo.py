"""The demo site made by `make run`: one welcome post with tags and an approved comment thread."""

from __future__ import annotations

from fedblog.context import Context
from fedblog.models import CommentStatus
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.posts import PostInput, PostService

WELCOME_EN = """Welcome to **fedblog**, a blog whose posts and conversations also live on the fediverse.

- Follow this blog from Mastodon, Pleroma, Misskey or GoToSocial with its handle.
- Reply from your fediverse account, or with the form below: both land in the same thread.
- The author writes in Markdown, from the admin or with `fedblog post publish`.

> One conversation per post, whoever joins it.
"""


async def create_demo_content(ctx: Context) -> None:
    posts = PostService(ctx)
    post = await posts.publish(
        PostInput(
            title="Welcome to fedblog",
            body_markdown=WELCOME_EN,
            slug="welcome",
            tags=("fedblog", "fediverse", "welcome"),
        )
    )
    comments = CommentService(ctx)
    first = await comments.submit_web_comment(
        post,
        CommentForm(
            name="Camille",
            email="camille@example.org",
            website="https://camille.example.org",
            message="Congratulations on the new blog! Can Mastodon users really reply here?",
        ),
        ip=None,
    )
    assert first.comment is not None
    if first.comment.status != CommentStatus.APPROVED:
        await comments.approve(first.comment.id)
    await comments.reply_as_author(first.comment.id, "They can: a reply from Mastodon shows up right in this thread.")
