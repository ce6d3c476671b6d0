"""`fedblog comments list|approve|spam|delete`."""

from __future__ import annotations

import argparse

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.models import CommentStatus
from fedblog.rendering import excerpt
from fedblog.services.comments import CommentService


def register(commands: argparse._SubParsersAction) -> None:
    comments = commands.add_parser("comments", help="moderate comments")
    actions = comments.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = add_command(actions, "list", run_list, "list comments, newest first")
    listing.add_argument("--status", choices=[s.value for s in CommentStatus])
    for name, help_text in (
        ("approve", "approve a comment (it appears on the page)"),
        ("spam", "mark a comment as spam (it disappears)"),
        ("delete", "delete a comment for good"),
    ):
        command = add_command(actions, name, run_action, help_text)
        command.add_argument("id", type=int)
        command.set_defaults(action_name=name)


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        status = CommentStatus(args.status) if args.status else None
        for comment in await ctx.comments.list_by_status(status):
            who = comment.author.handle or comment.author.email or comment.author.name
            print(
                f"{comment.id:5}  {comment.status.value:8}  {comment.origin.value:9}  {comment.post_slug:24}  "
                f"{comment.author.name} <{who}>: {excerpt(comment.content_html, 60)}"
            )
    return 0


async def run_action(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        service = CommentService(ctx)
        action = {"approve": service.approve, "spam": service.mark_spam, "delete": service.delete}[args.action_name]
        try:
            comment = await action(args.id)
        except LookupError:
            raise CommandError(f"no comment with id {args.id}") from None
        print(f"comment {comment.id}: {'deleted' if args.action_name == 'delete' else comment.status.value}")
    return 0
