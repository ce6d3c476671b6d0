"""The writes of a WordPress import, as plain sqlite3 calls for one Database.run_transaction: the whole import is
one transaction (all or nothing) on the database thread, without a thread trip per row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from fedblog.clock import to_text, utcnow
from fedblog.rendering import html_to_text
from fedblog.store.comments import _INSERT_COMMENT, NewComment, _comment_params
from fedblog.store.posts import INSERT_POST, PostFields, post_row


def post_id_by_wp_id(raw: sqlite3.Connection, wp_post_id: int) -> tuple[int, str] | None:
    """(local id, slug) of the post imported from this WordPress id."""
    row = raw.execute("SELECT id, slug FROM posts WHERE wp_post_id = ?", (wp_post_id,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def slug_taken(raw: sqlite3.Connection, slug: str) -> bool:
    return raw.execute("SELECT 1 FROM posts WHERE slug = ?", (slug,)).fetchone() is not None


def insert_post(raw: sqlite3.Connection, fields: PostFields, tags: Iterable[str]) -> int:
    cursor = raw.execute(INSERT_POST, post_row(fields))
    post_id = int(cursor.lastrowid or 0)
    raw.executemany("INSERT OR IGNORE INTO post_tags (post_id, tag) VALUES (?, ?)", [(post_id, t) for t in tags])
    raw.executemany(
        "INSERT OR IGNORE INTO post_categories (post_id, category_id) VALUES (?, ?)",
        [(post_id, category_id) for category_id in fields.category_ids],
    )
    return post_id


def set_author_name(raw: sqlite3.Connection, post_ids: list[int], name: str) -> None:
    raw.executemany("UPDATE posts SET author_name = ? WHERE id = ?", [(name, post_id) for post_id in post_ids])


def set_html_body(raw: sqlite3.Connection, post_id: int, body_html: str) -> None:
    raw.execute(
        "UPDATE posts SET body_markdown = ?, body_html = ?, body_text = ? WHERE id = ?",
        (body_html, body_html, html_to_text(body_html), post_id),
    )


def category_id(raw: sqlite3.Connection, slug: str) -> int | None:
    row = raw.execute("SELECT id FROM categories WHERE slug = ?", (slug,)).fetchone()
    return None if row is None else int(row[0])


def upsert_category(raw: sqlite3.Connection, slug: str, name: str, parent_id: int | None, description: str) -> int:
    """The category with this slug, created or given the export's name, parent and description; its id."""
    raw.execute(
        "INSERT INTO categories (slug, name, parent_id, description, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, "
        "parent_id = COALESCE(excluded.parent_id, categories.parent_id), "
        "description = CASE WHEN excluded.description != '' THEN excluded.description "
        "ELSE categories.description END",
        (slug, name, parent_id, description, to_text(utcnow())),
    )
    found = category_id(raw, slug)
    assert found is not None
    return found


def record_old_links(raw: sqlite3.Connection, post_id: int, paths: Iterable[str]) -> None:
    """Old paths of a post; a path already known keeps its owner."""
    raw.executemany(
        "INSERT OR IGNORE INTO old_links (path, post_id) VALUES (?, ?)", [(path, post_id) for path in paths]
    )


def record_old_target(raw: sqlite3.Connection, path: str, target: str) -> None:
    raw.execute("INSERT OR IGNORE INTO old_links (path, target) VALUES (?, ?)", (path, target))


def comment_id_by_wp_id(raw: sqlite3.Connection, wp_comment_id: int) -> int | None:
    row = raw.execute("SELECT id FROM comments WHERE wp_comment_id = ?", (wp_comment_id,)).fetchone()
    return None if row is None else int(row[0])


def visitor_author(raw: sqlite3.Connection, name: str, email: str, website: str | None) -> int:
    """One author row per (email, name, website), as for web comments."""
    row = raw.execute(
        "SELECT id FROM comment_authors WHERE kind = 'visitor' AND email = ? AND name = ? "
        "AND COALESCE(website, '') = ?",
        (email, name, website or ""),
    ).fetchone()
    if row is not None:
        return int(row[0])
    cursor = raw.execute(
        "INSERT INTO comment_authors (kind, name, email, website, created_at) VALUES ('visitor', ?, ?, ?, ?)",
        (name, email, website or None, to_text(utcnow())),
    )
    return int(cursor.lastrowid or 0)


def insert_comment(raw: sqlite3.Connection, new: NewComment) -> int:
    cursor = raw.execute(_INSERT_COMMENT, _comment_params(new))
    return int(cursor.lastrowid or 0)


def set_comment_parents(raw: sqlite3.Connection, parents: Iterable[tuple[int, int]]) -> None:
    """(comment id, parent id) pairs: threading set once every comment of a post exists."""
    raw.executemany("UPDATE comments SET parent_id = ? WHERE id = ?", [(parent, child) for child, parent in parents])


def insert_outbox_create(
    raw: sqlite3.Connection, activity_id: str, object_id: str, body: str, published_at: str
) -> None:
    """A Create in the outbox collection (so that the post's activity dereferences), with no deliveries."""
    raw.execute(
        "INSERT OR IGNORE INTO outbox (id, type, object_id, body, public, published_at) "
        "VALUES (?, 'Create', ?, ?, 1, ?)",
        (activity_id, object_id, body, published_at),
    )


def newest_comment_id(raw: sqlite3.Connection) -> int:
    return int(raw.execute("SELECT COALESCE(MAX(id), 0) FROM comments").fetchone()[0])


def skip_notifications_of_import(raw: sqlite3.Connection, newest_before: int) -> None:
    """The e-mail notifier's comments mark moved past the imported comments, when it had announced every comment
    before them: an import is not news for the author (store/notifications.py keeps the mark's format)."""
    raw.execute(
        "UPDATE notification_marks SET last_id = (SELECT MAX(id) FROM comments), "
        "last_stamp = (SELECT created_at || '|' || author_id || '|' || post_id FROM comments "
        "ORDER BY id DESC LIMIT 1) WHERE stream = 'comments' AND last_id >= ? "
        "AND EXISTS (SELECT 1 FROM comments WHERE id > ?)",
        (newest_before, newest_before),
    )
