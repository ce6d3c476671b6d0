"""Full-text search over published posts (title, rendered body, tags), in each backend's own engine.

SQLite: the FTS5 index of migrations 004 and 031, ranked by bm25. PostgreSQL: posts.search_document, a tsvector
with a GIN index filled by migration 086's triggers (each post in its language's configuration, and again word for
word), ranked by ts_rank with the same weights, highlighted by ts_headline. Both find the same posts for the same
words: every word must match, accents and case aside, as a prefix from PREFIX_FROM characters; PostgreSQL also finds
other forms of a word (its stem).

Visitors' words never reach either engine as syntax: `query_terms` keeps only word characters and each is quoted,
so `"`, `*`, `NEAR(`, `-`, `OR`, `^`, `!`, `&` or `:` can never make a query fail. Matched words come back wrapped in
two control characters and are split into (text, matched) parts: the template escapes every part and adds the
<mark> tags itself, so nothing from a post becomes markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text
from fedblog.store.db import Database, Row

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
_FTS5_SEARCH = (
    "SELECT p.slug, p.title, p.language, p.published_at, "
    "highlight(post_search, 0, ?, ?) AS title_marked, "
    f"snippet(post_search, 1, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet_marked "
    f"{_MATCHES} ORDER BY {_RANK}, p.published_at DESC, p.id DESC LIMIT ? OFFSET ?"
)

# PostgreSQL. The query (parameter: tsquery_patterns): each term as its simple form or as its stem in any
# configuration the published posts use, all terms required; a scalar subquery, so the GIN index can serve it.
_TS_QUERY = (
    "(WITH configs AS (SELECT CAST('fedblog_simple' AS regconfig) AS config "
    "UNION SELECT DISTINCT search_config FROM posts WHERE draft = 0 AND search_config IS NOT NULL), "
    "terms AS (SELECT pattern, n FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS t(pattern, n)) "
    "SELECT fedblog_tsquery_all(term_query) FROM (SELECT fedblog_tsquery_any(to_tsquery(c.config, t.pattern)) "
    "AS term_query FROM terms t CROSS JOIN configs c GROUP BY t.n) AS each_term)"
)
_TS_MATCHES = f"FROM posts p WHERE p.search_document @@ {_TS_QUERY} AND p.draft = 0"
# Title (A) weighs 1.0, tags (B) 0.6, body (C) 0.2: bm25's 5 : 3 : 1 above.
_TS_RANK = "ts_rank(CAST('{0, 0.2, 0.6, 1.0}' AS real[]), p.search_document, " + _TS_QUERY + ")"
# ts_headline marks the words of the simple query (as FTS5 marks its matches); `<` is swapped for \x01 and back,
# since its parser would take `<b>` in the text for a tag and drop it.
_HEADLINE = (
    "replace(ts_headline('fedblog_simple', replace({text}, '<', chr(1)), to_tsquery('fedblog_simple', ?), "
    "'{options}'), chr(1), '<')"
)
_TS_SEARCH = (
    "SELECT slug, title, language, published_at, body, "
    + _HEADLINE.format(text="title", options=f'StartSel="{_OPEN}", StopSel="{_CLOSE}", HighlightAll=true')
    + " AS title_marked, "
    + _HEADLINE.format(
        text="body",
        options=f'StartSel="{_OPEN}", StopSel="{_CLOSE}", MaxWords={SNIPPET_TOKENS}, MinWords=16, ShortWord=0',
    )
    + " AS snippet_marked FROM (SELECT p.id, p.slug, p.title, p.language, p.published_at, "
    f"COALESCE(p.body_text, p.body_markdown) AS body, {_TS_RANK} AS rank {_TS_MATCHES} "
    "ORDER BY rank DESC, p.published_at DESC, p.id DESC LIMIT ? OFFSET ?) AS page "
    "ORDER BY rank DESC, published_at DESC, id DESC"
)

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


def tsquery_patterns(terms: list[str]) -> list[str]:
    """PostgreSQL's to_tsquery() text for each term: quoted (nothing in it is syntax), a prefix as in FTS5."""
    return [f"'{term}':*" if len(term) >= PREFIX_FROM else f"'{term}'" for term in terms]


def with_ellipses(marked: str, text: str) -> str:
    """ts_headline's fragment with '…' where it cuts the text, as FTS5's snippet has."""
    shown = " ".join(marked.replace(_OPEN, "").replace(_CLOSE, "").split())
    whole = " ".join(text.split())
    if not shown or shown == whole:
        return marked
    return ("" if whole.startswith(shown) else "…") + marked + ("" if whole.endswith(shown) else "…")


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
        if not terms:
            return 0
        if self.db.dialect == "postgresql":
            return int(await self.db.fetch_value(f"SELECT COUNT(*) {_TS_MATCHES}", (tsquery_patterns(terms),)))
        return int(await self.db.fetch_value(f"SELECT COUNT(*) {_MATCHES}", (match_expression(terms),)))

    async def search_posts(self, terms: list[str], limit: int, offset: int = 0) -> list[SearchHit]:
        """Published posts matching every term, most relevant first (newest first among equals)."""
        if not terms:
            return []
        if self.db.dialect == "postgresql":
            patterns = tsquery_patterns(terms)
            simple = " & ".join(patterns)
            rows = await self.db.fetch_all(_TS_SEARCH, (simple, simple, patterns, patterns, limit, offset))
            return [_hit(row, with_ellipses(row["snippet_marked"] or "", row["body"] or "")) for row in rows]
        rows = await self.db.fetch_all(
            _FTS5_SEARCH, (_OPEN, _CLOSE, _OPEN, _CLOSE, match_expression(terms), limit, offset)
        )
        return [_hit(row, row["snippet_marked"] or "") for row in rows]


def _hit(row: Row, snippet_marked: str) -> SearchHit:
    return SearchHit(
        slug=row["slug"],
        title=row["title"],
        language=row["language"],
        published_at=from_text(row["published_at"]),  # type: ignore[arg-type]
        title_parts=marked_parts(row["title_marked"] or row["title"]),
        snippet_parts=marked_parts(snippet_marked),
    )
