"""`fedblog notifications test`: send a test e-mail with the current [notifications] settings."""

from __future__ import annotations

import argparse

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.notifications import NotificationError, send_trial_message


def register(commands: argparse._SubParsersAction) -> None:
    notifications = commands.add_parser("notifications", help="e-mail notifications for the author")
    actions = notifications.add_subparsers(dest="action", metavar="ACTION", required=True)
    add_command(actions, "test", run_test, "send a test e-mail to notifications.email with the current settings")


async def run_test(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            address = await send_trial_message(ctx)
        except NotificationError as error:
            raise CommandError(str(error)) from None
    smtp = settings.notifications
    print(f"sent a test e-mail to {address} through {smtp.smtp_host}:{smtp.smtp_port}")
    return 0
