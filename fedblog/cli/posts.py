"""`fedblog post publish|list|edit|delete`."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.clock import to_text
from fedblog.config import Settings
from fedblog.frontmatter import FrontMatterError, parse_document
from fedblog.models import Post, PostState
from fedblog.services.posts import PostError, PostInput, PostService, input_from_document


def register(commands: argparse._SubParsersAction) -> None:
    post = commands.add_parser("post", help="publish, list, edit and delete posts")
    actions = post.add_subparsers(dest="action", metavar="ACTION", required=True)
    publish = add_command(actions, "publish", run_publish, "publish a Markdown file with front matter")
    publish.add_argument("file")
    add_command(actions, "list", run_list, "list every post, drafts included")
    edit = add_command(actions, "edit", run_edit, "replace a post with a Markdown file")
    edit.add_argument("slug")
    edit.add_argument("file")
    unpublish = add_command(
        actions, "unpublish", run_unpublish, "take a published post back to draft (followers get a Delete)"
    )
    unpublish.add_argument("slug")
    delete = add_command(actions, "delete", run_delete, "delete a post (followers get a Delete)")
    delete.add_argument("slug")


def read_input(path: str) -> PostInput:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    try:
        return input_from_document(parse_document(text))
    except (FrontMatterError, PostError) as error:
        raise CommandError(f"{path}: {error}") from None


async def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    data = read_input(args.file)
    async with open_context(settings) as ctx:
        try:
            post = await PostService(ctx).publish(data)
        except PostError as error:
            raise CommandError(f"{args.file}: {error}") from None
        print(ctx.urls.post(post.slug) + state_note(post))
    return 0


def state_note(post: Post) -> str:
    if post.state is PostState.SCHEDULED:
        return f" (scheduled for {to_text(post.published_at)})"
    return " (draft)" if post.state is PostState.DRAFT else ""


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        for post in await ctx.posts.list_all():
            # A scheduled post shows the minute it goes out; the others their day.
            when = f"{post.published_at:%Y-%m-%d %H:%M}" if post.state is PostState.SCHEDULED else ""
            print(
                f"{when or f'{post.published_at:%Y-%m-%d}':16}  {post.state.value:9}  {post.slug:30}  "
                f"{post.comment_count:3} comments  {post.title}"
            )
    return 0


async def run_edit(args: argparse.Namespace, settings: Settings) -> int:
    data = read_input(args.file)
    async with open_context(settings) as ctx:
        try:
            post = await PostService(ctx).edit(args.slug, data)
        except PostError as error:
            raise CommandError(str(error)) from None
        print(ctx.urls.post(post.slug) + state_note(post))
    return 0


async def run_unpublish(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            post = await PostService(ctx).unpublish(args.slug)
        except PostError as error:
            raise CommandError(str(error)) from None
        print(f"unpublished {post.slug} (now a draft; its address answers 410 Gone until it is published again)")
    return 0


async def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            post = await PostService(ctx).delete(args.slug)
        except PostError as error:
            raise CommandError(str(error)) from None
        print(f"deleted {post.slug}")
    return 0
