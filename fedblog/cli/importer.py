"""`fedblog import wordpress EXPORT.xml [--dry-run] [--media keep|download]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from fedblog.assembly import open_context
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.wordpress_import import Progress, WxrError, import_wordpress, scan_export
from fedblog.services.wordpress_media import MediaOutcome, download_media

BAR_WIDTH = 30
LINE_EVERY_SECONDS = 5.0


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("import", help="import another blog's content")
    sources = group.add_subparsers(dest="source", metavar="SOURCE", required=True)
    wordpress = add_command(
        sources, "wordpress", run_wordpress, "import a WordPress export (Tools → Export → All content, WXR 1.0-1.2)"
    )
    wordpress.add_argument("export", help="the WXR file")
    wordpress.add_argument("--dry-run", action="store_true", help="read everything, print the report, write nothing")
    wordpress.add_argument(
        "--media",
        choices=("keep", "download"),
        default="keep",
        help="keep: images keep their old URLs (default); download: fetch them into the media folder",
    )


class ProgressPrinter:
    """A bar redrawn in place on a terminal; a plain line every few seconds otherwise (logs, pipes)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last_line = 0.0

    def __call__(self, progress: Progress) -> None:
        figures = (
            f"{progress.items} items, {progress.posts} posts, {progress.comments} comments, {progress.media} media, "
            f"{progress.elapsed:.0f} s, {progress.rate:.0f} items/s"
        )
        if self.tty:
            filled = int(progress.fraction * BAR_WIDTH)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.out.write(f"\r[{bar}] {progress.fraction:4.0%} {figures}\x1b[K")
            if progress.fraction >= 1.0:
                self.out.write("\n")
        elif time.monotonic() - self.last_line >= LINE_EVERY_SECONDS or progress.fraction >= 1.0:
            self.last_line = time.monotonic()
            self.out.write(f"import: {progress.fraction:.0%} read, {figures}\n")
        self.out.flush()


class MediaProgressPrinter:
    """Media downloads: n of total, redrawn on a terminal, a line every few seconds otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.last_line = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            self.out.write(f"\rmedia: {done}/{total}\x1b[K" + ("\n" if done == total else ""))
        elif time.monotonic() - self.last_line >= LINE_EVERY_SECONDS or done == total:
            self.last_line = time.monotonic()
            self.out.write(f"media: {done} of {total} downloaded or tried\n")
        self.out.flush()


async def run_wordpress(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.export)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    scan = None
    if args.media == "download" and not args.dry_run:
        try:
            scan = scan_export(path)  # the media to fetch, before the import's transaction
        except WxrError as error:
            raise CommandError(f"{path}: {error} (nothing imported)") from None
    async with open_context(settings) as ctx:
        media = MediaOutcome()
        if scan is not None:
            media = await download_media(ctx, scan.media, MediaProgressPrinter(sys.stderr))
        try:
            report = await import_wordpress(
                ctx,
                path,
                dry_run=args.dry_run,
                media_urls=media.urls,
                scan=scan,
                on_progress=ProgressPrinter(sys.stderr),
            )
        except WxrError as error:
            raise CommandError(f"{path}: {error} (nothing imported)") from None
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror} (nothing imported)") from None
    report.media_failed = media.failed
    print("\n".join(report.lines()))
    return 0
