"""The import's progress output: a bar redrawn in place on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import io

from fedblog.cli.importer import ProgressPrinter
from fedblog.services.wordpress_import import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress__on_a_terminal_one_bar_redrawn_then_a_newline_at_the_end() -> None:
    out = Terminal()
    printer = ProgressPrinter(out)
    printer(Progress(items=200, posts=150, comments=1200, media=3, fraction=0.5, started=0.0))
    printer(Progress(items=400, posts=300, comments=2400, media=3, fraction=1.0, started=0.0))
    text = out.getvalue()
    assert text.count("\r[") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "\r[###############...............]  50% 200 items, 150 posts, 1200 comments, 3 media, " in text
    assert "items/s" in text


def test_progress__not_a_terminal_plain_lines_at_most_every_few_seconds_and_the_last_one() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for items in (200, 400, 600):
        printer(Progress(items=items, fraction=items / 1000))
    printer(Progress(items=1000, fraction=1.0))
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["import: 20% read", "import: 100% read"]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
