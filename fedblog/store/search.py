"""Full-text search over published posts: the FTS5 index of migration 004 (title, Markdown body, tags).

Visitors' words never reach FTS5 as syntax: `match_expression` keeps only word characters and quotes each word,
so `"`, `*`, `NEAR(`, `-`, `OR`, `^` or `:` can never make a query fail. Matched words come back wrapped in two
control characters and are split into (text, matched) parts: the template escapes every part and adds the <mark>
tags itself, so nothing from a post becomes markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text
from fedblog.store.db import Database

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
# Words this long or longer also match as prefixes ("federat" finds "federation"); shorter ones match whole.
PREFIX_FROM = 3
SNIPPET_TOKENS = 32
_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"\w+")
# Markdown emphasis and code marks read as noise in a plain-text snippet.
_MARKDOWN_NOISE = re.compile(r"\*\*|__|`+")
_SPACES = re.compile(r"\s+")
# Title, body, tags: a word in the title counts most, then a tag, then the body.
_RANK = "bm25(post_search, 5.0, 1.0, 3.0)"
_MATCHES = "FROM post_search JOIN posts p ON p.id = post_search.rowid WHERE post_search MATCH ? AND p.draft = 0"

Parts = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    language: str
    published_at: datetime
    title_parts: Parts
    snippet_parts: Parts


def bounded_query(text: str) -> str:
    """The query as typed, spaces collapsed, cut to MAX_QUERY_LENGTH characters at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= MAX_QUERY_LENGTH:
        return text
    cut = text[:MAX_QUERY_LENGTH]
    return cut.rsplit(" ", 1)[0] if text[MAX_QUERY_LENGTH] != " " and " " in cut else cut


def query_terms(text: str) -> list[str]:
    """The words of a visitor's query (bounded in length and number), in order, without repeats."""
    terms: list[str] = []
    for word in _WORD.findall(bounded_query(text)):
        if word.casefold() not in (term.casefold() for term in terms):
            terms.append(word)
    return terms[:MAX_TERMS]


def match_expression(terms: list[str]) -> str | None:
    """An FTS5 query where every term is a quoted string (all must match); None when there is nothing to find."""
    if not terms:
        return None
    return " ".join(f'"{term}"*' if len(term) >= PREFIX_FROM else f'"{term}"' for term in terms)


def marked_parts(text: str) -> Parts:
    """Split FTS5's marked text into (text, matched) parts; stray markers from the source text are dropped."""
    parts: list[tuple[str, bool]] = []
    matched = False
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", text):
        if piece in (_OPEN, _CLOSE):
            matched = piece == _OPEN
            continue
        cleaned = _SPACES.sub(" ", _MARKDOWN_NOISE.sub("", piece))
        if cleaned:
            parts.append((cleaned, matched))
    return tuple(parts)


class SearchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_matches(self, terms: list[str]) -> int:
        expression = match_expression(terms)
        if expression is None:
            return 0
        return int(await self.db.fetch_value(f"SELECT COUNT(*) {_MATCHES}", (expression,)))

    async def search_posts(self, terms: list[str], limit: int, offset: int = 0) -> list[SearchHit]:
        """Published posts matching every term, most relevant first (newest first among equals)."""
        expression = match_expression(terms)
        if expression is None:
            return []
        rows = await self.db.fetch_all(
            "SELECT p.slug, p.title, p.language, p.published_at, "
            "highlight(post_search, 0, ?, ?) AS title_marked, "
            f"snippet(post_search, 1, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet_marked "
            f"{_MATCHES} ORDER BY {_RANK}, p.published_at DESC, p.id DESC LIMIT ? OFFSET ?",
            (_OPEN, _CLOSE, _OPEN, _CLOSE, expression, limit, offset),
        )
        return [
            SearchHit(
                slug=row["slug"],
                title=row["title"],
                language=row["language"],
                published_at=from_text(row["published_at"]),  # type: ignore[arg-type]
                title_parts=marked_parts(row["title_marked"] or row["title"]),
                snippet_parts=marked_parts(row["snippet_marked"] or ""),
            )
            for row in rows
        ]
