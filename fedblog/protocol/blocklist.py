"""Domain blocklists in the CSV format Mastodon exports (Moderation → Federation → Export), read without I/O.

The header names the columns: `#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate`
(older exports and shared lists may have `domain,severity,…` or no header at all: one domain a line).
fedblog has one kind of block (nothing in, nothing out), so only `suspend` rows are taken; `silence` and `noop`
rows, and obfuscated domains (`exa***.com`), are counted as skipped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

MAX_ROWS = 50_000
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


class BlocklistError(ValueError):
    """Not a blocklist at all (no domain column, binary data, too many rows)."""


@dataclass(frozen=True)
class ParsedBlocklist:
    domains: tuple[str, ...]  # to block: lowercase, IDNA-encoded, without repeats, in file order
    skipped: int  # rows not taken: other severities, obfuscated or malformed domains


def normalise_domain(text: str) -> str | None:
    value = text.strip().lower().rstrip(".")
    if value.startswith("*."):
        value = value[2:]
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return value if _DOMAIN_RE.match(value) else None


def parse_mastodon_blocklist(text: str) -> ParsedBlocklist:
    if "\x00" in text:
        raise BlocklistError("this is not a text file")
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_ROWS:
        raise BlocklistError(f"more than {MAX_ROWS} rows")
    rows = [row for row in rows if row and any(cell.strip() for cell in row)]
    if not rows:
        return ParsedBlocklist((), 0)
    header = [cell.strip().lower().lstrip("#") for cell in rows[0]]
    if "domain" in header:
        domain_column, body = header.index("domain"), rows[1:]
        severity_column = header.index("severity") if "severity" in header else None
    elif normalise_domain(rows[0][0]) is not None:
        domain_column, body, severity_column = 0, rows, None
    else:
        raise BlocklistError("no #domain column: expected Mastodon's domain blocks export")
    domains: dict[str, None] = {}
    skipped = 0
    for row in body:
        cells = [cell.strip() for cell in row]
        if len(cells) <= domain_column or cells[domain_column].startswith("#"):
            continue
        severity = (
            cells[severity_column].lower() if severity_column is not None and len(cells) > severity_column else ""
        )
        domain = normalise_domain(cells[domain_column]) if "*" not in cells[domain_column].lstrip("*.") else None
        if severity not in ("", "suspend") or domain is None:
            skipped += 1
            continue
        domains.setdefault(domain, None)
    return ParsedBlocklist(tuple(domains), skipped)
