"""`fedblog export wordpress OUT.xml | markdown DIR`: the whole blog, to take elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.export import ExportError, ExportReport, export_markdown, export_wordpress


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write the whole blog as a WordPress export or Markdown files")
    formats = export.add_subparsers(dest="format", metavar="FORMAT", required=True)
    wordpress = add_command(
        formats, "wordpress", run_wordpress, "a WXR 1.2 file for WordPress's importer (posts, pages, comments)"
    )
    wordpress.add_argument("out", metavar="OUT.xml")
    markdown = add_command(
        formats, "markdown", run_markdown, "one Markdown file with front matter per post and page, comments as JSON"
    )
    markdown.add_argument("directory", metavar="DIR")


def _print(report: ExportReport, where: str) -> None:
    print(f"exported to {where}")
    for line in report.lines():
        print(f"  {line}")


async def run_wordpress(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            report = await export_wordpress(ctx, Path(args.out))
        except ExportError as error:
            raise CommandError(str(error)) from None
    _print(report, args.out)
    return 0


async def run_markdown(args: argparse.Namespace, settings: Settings) -> int:
    async with open_context(settings) as ctx:
        try:
            report = await export_markdown(ctx, Path(args.directory))
        except ExportError as error:
            raise CommandError(str(error)) from None
    _print(report, args.directory)
    return 0
