"""`fedblog blocks list|add|remove`: blocklists of domains and accounts."""

from __future__ import annotations

import argparse

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.blocks import BlockError, add_block, list_blocks, remove_block


def register(commands: argparse._SubParsersAction) -> None:
    blocks = commands.add_parser("blocks", help="block domains and accounts")
    actions = blocks.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_command(actions, "list", run_list, "list blocked domains and accounts")
    for name, handler, help_text in (
        ("add", run_add, "block a domain (example.com) or an account (its actor URL); its followers are removed"),
        ("remove", run_remove, "unblock a domain or an account"),
    ):
        command = add_command(actions, name, handler, help_text)
        command.add_argument("value", help="a domain such as example.com, or an actor URL https://…")


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        for block in await list_blocks(ctx):
            print(f"{block.kind:7}  {block.value}")
    return 0


async def run_add(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            block, removed = await add_block(ctx, args.value)
        except BlockError as error:
            raise CommandError(str(error)) from None
        print(f"blocked {block.kind} {block.value}" + (f" ({removed} follower(s) removed)" if removed else ""))
    return 0


async def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            removed = await remove_block(ctx, args.value)
        except BlockError as error:
            raise CommandError(str(error)) from None
        if not removed:
            raise CommandError(f"{args.value} is not blocked")
        print(f"unblocked {args.value}")
    return 0
