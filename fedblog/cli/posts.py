"""`fedblog post publish|list|edit|delete`."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.context import open_context
from fedblog.frontmatter import FrontMatterError, parse_document
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
        print(ctx.urls.post(post.slug) + (" (draft)" if post.draft else ""))
    return 0


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        for post in await ctx.posts.list_all():
            state = "draft" if post.draft else "published"
            print(
                f"{post.published_at:%Y-%m-%d}  {state:9}  {post.slug:30}  "
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
        print(ctx.urls.post(post.slug))
    return 0


async def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            post = await PostService(ctx).delete(args.slug)
        except PostError as error:
            raise CommandError(str(error)) from None
        print(f"deleted {post.slug}")
    return 0
