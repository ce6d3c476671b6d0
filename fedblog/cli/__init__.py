"""The `fedblog` command: each subcommand calls one service; errors print one line and exit non-zero."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fedblog import __version__
from fedblog.config import ConfigError, Settings, load_settings
from fedblog.logs import LOG_FORMATS, configure_logging
from fedblog.store.db import StorageUnavailable

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


class CommandError(Exception):
    """A user error in a command: printed as one line, exit code 1 (2 for a bad option, as argparse does)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    # A real cycle: each command module imports CommandError and helpers from this package.
    from fedblog.cli import (
        blocks,
        comments,
        database,
        export,
        federation,
        importer,
        notifications,
        operations,
        posts,
        site,
    )
    from fedblog.cli import quotes as quote_commands  # the same cycle

    parser = argparse.ArgumentParser(prog="fedblog", description="A blog for one author, on the fediverse.")
    parser.add_argument("--version", action="version", version=f"fedblog {__version__}")
    parser.add_argument(
        "--config",
        default=os.environ.get("FEDBLOG_CONFIG", "fedblog.toml"),
        help="the site's fedblog.toml (default: $FEDBLOG_CONFIG or ./fedblog.toml)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=None,
        help="plain lines or one JSON object per line (default: server.log_format, plain)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = (
        site, posts, comments, federation, blocks, quote_commands, notifications, importer, export, operations, database
    )  # fmt: skip
    for module in modules:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The commands' modules are imported here: hundreds of modules' objects, none of them garbage, that the
    # collector walked over and over (a sixth of the time to import them). Collected once, after.
    gc.disable()
    try:
        parser = build_parser()
    finally:
        gc.enable()
    args = parser.parse_args(argv)
    configure_logging(args.log_format or "plain")
    try:
        settings = load_settings(args.config) if getattr(args, "needs_settings", True) else None
        if settings is not None and args.log_format is None and settings.server.log_format != "plain":
            configure_logging(settings.server.log_format)
        code = int(asyncio.run(args.handler(args, settings)) or 0)
        sys.stdout.flush()  # inside the try: a reader that went away (`| head`) is noticed here, not at exit
        return code
    except ConfigError as error:
        print(f"fedblog: configuration error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"fedblog: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        return quiet_after_broken_pipe()
    except StorageUnavailable as error:
        print(f"fedblog: cannot use the database: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def quiet_after_broken_pipe() -> int:
    """The reader of a listing stopped early (`fedblog post list | head -1`): exit quietly, as `ls | head` does.
    What is still buffered can never be written; stdout now points at /dev/null so the flush at exit is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def add_command(commands: Any, name: str, handler: Handler, help_text: str, needs_settings: bool = True) -> Any:
    command = commands.add_parser(name, help=help_text, description=help_text)
    command.set_defaults(handler=handler, needs_settings=needs_settings)
    return command
