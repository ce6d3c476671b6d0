"""Numbers taken from a request (row ids, page numbers): ASCII digits only, bounded. Pure.

str.isdigit() accepts "²" and other digits int() refuses, and an unbounded id overflows SQLite's 64-bit
integers: either was a 500. Anything that is not a plain number in range is simply no such row or page.
"""

from __future__ import annotations

import re

MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_positive_int(text: str | None, maximum: int = MAX_ROW_ID) -> int | None:
    """The number in `text` when it is 1..maximum written in ASCII digits; None otherwise."""
    if text is None or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None
