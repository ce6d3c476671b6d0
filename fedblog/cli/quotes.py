"""`fedblog quotes list|revoke`: the quotes of the blog's posts it authorized (FEP-044f)."""

from __future__ import annotations

import argparse

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.quotes import list_quotes, revoke


def register(commands: argparse._SubParsersAction) -> None:
    quotes = commands.add_parser("quotes", help="quotes of the posts by other accounts, authorized by the blog")
    actions = quotes.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_command(actions, "list", run_list, "list authorized and revoked quotes, newest first")
    command = add_command(actions, "revoke", run_revoke, "withdraw a quote's authorization (its Delete is sent)")
    command.add_argument("id", type=int, help="the quote's number, from `fedblog quotes list`")


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        for quote in await list_quotes(ctx):
            print(f"{quote.id:6}  {quote.state:8}  {quote.actor_id}  {quote.quote_url or quote.quote_id}")
    return 0


async def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            quote = await revoke(ctx, args.id)
        except LookupError:
            raise CommandError(f"no quote {args.id}") from None
        print(f"revoked quote {quote.id} by {quote.actor_id}")
    return 0
