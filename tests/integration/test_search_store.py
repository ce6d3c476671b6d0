"""The search index on a real SQLite file: built for posts written before the migration, kept in step by triggers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fedblog.store.db import Database, available_migrations, split_statements
from fedblog.store.search import SearchStore, bounded_query, match_expression, query_terms

SEARCH_MIGRATION = next(version for version, sql in available_migrations() if "post_search" in sql)


def database_before_search(path: Path) -> None:
    """A site as it was before the search migration: one post with a tag."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for version, sql in available_migrations():
        if version >= SEARCH_MIGRATION:
            break
        for statement in split_statements(sql):
            raw.execute(statement)
        raw.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", (version,))
    raw.execute(
        "INSERT INTO posts (slug, title, body_markdown, body_html, language, published_at, created_at) "
        "VALUES ('old', 'Written long ago', 'About the abacus.', '<p>About the abacus.</p>', 'en', "
        "'2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')"
    )
    raw.execute("INSERT INTO post_tags (post_id, tag) VALUES (1, 'counting')")
    raw.close()


async def test_search_migration__indexes_posts_written_before_it(tmp_path: Path) -> None:
    # Given a database made before search existed
    path = tmp_path / "fedblog.sqlite3"
    database_before_search(path)
    # When fedblog opens it (migrations run)
    db = await Database.open(path)
    try:
        store = SearchStore(db)
        # Then its post is found by a word of its body, of its title, by its tag
        for word in ("abacus", "long", "counting"):
            hits = await store.search_posts(query_terms(word), 10)
            assert [hit.slug for hit in hits] == ["old"], word
    finally:
        await db.close()


def test_query_terms__only_words_quoted_so_no_query_syntax_survives() -> None:
    terms = query_terms('"NEAR(a* -b) OR c:d" ^e {f} AND a')

    assert terms == ["NEAR", "a", "b", "OR", "c", "d", "e", "f", "AND"]
    assert match_expression(terms) == '"NEAR"* "a" "b" "OR" "c" "d" "e" "f" "AND"*'
    assert match_expression(query_terms('"* - ( )')) is None


def test_bounded_query__cut_at_a_word_boundary() -> None:
    assert bounded_query("  two   words ") == "two words"
    assert bounded_query("word " * 100) == ("word " * 40).strip()
    assert len(bounded_query("x" * 10_000)) == 200
