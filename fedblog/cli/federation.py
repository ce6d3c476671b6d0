"""`fedblog followers list|pending|approve|reject` and `fedblog queue status`."""

from __future__ import annotations

import argparse

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.clock import to_text
from fedblog.config import Settings
from fedblog.models import Follower
from fedblog.services.delivery import queue_report
from fedblog.services.followers import ACCEPTED, PENDING, FollowerError, FollowerService


def register(commands: argparse._SubParsersAction) -> None:
    followers = commands.add_parser("followers", help="list followers, approve or reject follow requests")
    actions = followers.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_command(actions, "list", run_list, "list accepted followers")
    add_command(actions, "pending", run_pending, "list follow requests waiting for approval")
    approve = add_command(actions, "approve", run_approve, "accept a follow request (sends Accept)")
    approve.add_argument("actor", help="the follower's actor URL")
    reject = add_command(actions, "reject", run_reject, "refuse a request or remove a follower (sends Reject)")
    reject.add_argument("actor", help="the follower's actor URL")

    queue = commands.add_parser("queue", help="the delivery queue")
    queue_actions = queue.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_command(queue_actions, "status", run_queue_status, "pending, retrying and failed deliveries by host")


def describe(follower: Follower) -> str:
    handle = follower.handle or ""
    return f"{follower.actor_id}  {handle}  {follower.name}".rstrip()


async def _print_followers(settings: Settings, status: str) -> int:
    async with open_context(settings) as ctx:
        found = await FollowerService(ctx).list(status)
        for follower in found:
            print(describe(follower))
        if not found:
            print("no pending follow requests" if status == PENDING else "no followers yet")
    return 0


async def run_list(args: argparse.Namespace, settings: Settings) -> int:
    return await _print_followers(settings, ACCEPTED)


async def run_pending(args: argparse.Namespace, settings: Settings) -> int:
    return await _print_followers(settings, PENDING)


async def run_approve(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            follower = await FollowerService(ctx).approve(args.actor)
        except FollowerError as error:
            raise CommandError(str(error)) from None
        print(f"approved {describe(follower)} (an Accept is queued)")
    return 0


async def run_reject(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            follower = await FollowerService(ctx).reject(args.actor)
        except FollowerError as error:
            raise CommandError(str(error)) from None
        print(f"rejected {describe(follower)} (a Reject is queued)")
    return 0


async def run_queue_status(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        counts, hosts = await queue_report(ctx)
        print(
            f"pending {counts.get('pending', 0)}, retrying {counts.get('retrying', 0)}, "
            f"failed {counts.get('failed', 0)}, delivered {counts.get('delivered', 0)}"
        )
        if hosts:
            print(f"{'host':40} {'pending':>7} {'retrying':>8} {'failed':>6}  state")
        for host in hosts:
            state = f"paused until {to_text(host.paused_until)}" if host.paused_until else "ok"
            if host.last_error and (host.retrying or host.failed):
                state += f"; last error: {host.last_error[:80]}"
            print(f"{host.host:40} {host.pending:7} {host.retrying:8} {host.failed:6}  {state}")
    return 0
