"""`fedblog followers list|pending|approve|reject` and `fedblog queue status|retry|purge`."""

from __future__ import annotations

import argparse
from datetime import datetime

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.clock import to_text, utcnow
from fedblog.config import Settings
from fedblog.models import Follower
from fedblog.services.delivery import queue_report
from fedblog.services.followers import ACCEPTED, PENDING, FollowerError, FollowerService
from fedblog.services.queue_control import purge_host, queue_overview, retry_deliveries


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
    add_command(
        queue_actions,
        "status",
        run_queue_status,
        "deliveries by state, per host (pending, leased, failed, paused) and per worker (leases, heartbeat)",
    )
    retry = add_command(
        queue_actions, "retry", run_queue_retry, "try failed deliveries again now, and the ones waiting for a retry"
    )
    retry.add_argument("--host", help="only this host (host or host:port, as `queue status` shows it)")
    purge = add_command(queue_actions, "purge", run_queue_purge, "drop a host's undelivered deliveries")
    purge.add_argument("--host", required=True, help="the host whose pending and failed deliveries go")
    purge.add_argument("--yes", action="store_true", help="confirm: the deliveries are gone for good")


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
        counts, _ = await queue_report(ctx)
        overview = await queue_overview(ctx)
    print(
        f"pending {counts.get('pending', 0)}, retrying {counts.get('retrying', 0)}, "
        f"failed {counts.get('failed', 0)}, delivered {counts.get('delivered', 0)}"
    )
    now = utcnow()
    oldest = overview.oldest_pending
    print(
        f"leased {overview.leased}, paused hosts {overview.paused}, "
        f"oldest undelivered {describe_age(now, oldest) if oldest else 'none'}"
    )
    if overview.hosts:
        print(f"{'host':40} {'pending':>7} {'retrying':>8} {'failed':>6} {'leased':>6} {'oldest':>8}  state")
    for host in overview.hosts:
        state = f"paused until {to_text(host.paused_until)}" if host.paused_until else "ok"
        age = describe_age(now, host.oldest_pending) if host.oldest_pending else "-"
        line = f"{host.host:40} {host.pending:7} {host.retrying:8} {host.failed:6} {host.leased:6} {age:>8}  {state}"
        print(line)
    if overview.workers:
        print(f"{'worker':40} {'machine':20} {'pid':>7} {'leased':>6}  heartbeat")
    for worker in overview.workers:
        beat = describe_age(now, worker.heartbeat_at)
        print(f"{worker.id:40} {worker.machine:20} {worker.pid:7} {worker.leased:6}  {beat} ago")
    return 0


def describe_age(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


async def run_queue_retry(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        count = await retry_deliveries(ctx, args.host)
    where = f" to {args.host}" if args.host else ""
    print(f"{count} deliveries{where} due now")
    return 0


async def run_queue_purge(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        raise CommandError(
            f"queue purge drops every undelivered delivery to {args.host} for good; add --yes to confirm", exit_code=2
        )
    async with open_context(settings) as ctx:
        count = await purge_host(ctx, args.host)
    print(f"dropped {count} undelivered deliveries to {args.host}")
    return 0
