"""The writes of a WordPress import, as plain sqlite3 calls in one Database.run_transaction: the whole import is
one transaction (all or nothing) on the database thread, without a thread trip per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from fedblog.clock import to_text, utcnow
from fedblog.rendering import html_to_text
from fedblog.store.categories import UPSERT_CATEGORY
from fedblog.store.comments import NewComment, VisitorAuthor, author_row_sync, insert_comment_sync
from fedblog.store.db import Database, SyncConnection
from fedblog.store.posts import INSERT_POST, PostFields, post_row

T = TypeVar("T")


async def run_import(db: Database, work: Callable[[ImportWriter], T]) -> T:
    """`work(writer)` as one transaction on the database thread (all or nothing, no trip per row)."""
    return await db.run_transaction(lambda raw: work(ImportWriter(raw)))


class ImportWriter:
    """The writes of one import on the database thread, inside the import's one transaction
    (`run_import`). Services hold this, never the driver's connection."""

    def __init__(self, raw: SyncConnection) -> None:
        self._raw = raw

    def post_id_by_wp_id(self, wp_post_id: int) -> tuple[int, str] | None:
        """(local id, slug) of the post imported from this WordPress id."""
        row = self._raw.execute("SELECT id, slug FROM posts WHERE wp_post_id = ?", (wp_post_id,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def slug_taken(self, slug: str) -> bool:
        return self._raw.execute("SELECT 1 FROM posts WHERE slug = ?", (slug,)).fetchone() is not None

    def insert_post(self, fields: PostFields, tags: Iterable[str]) -> int:
        post_id = int(self._raw.execute(INSERT_POST, post_row(fields)).fetchone()[0])
        self._raw.executemany(
            "INSERT INTO post_tags (post_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING", [(post_id, t) for t in tags]
        )
        self._raw.executemany(
            "INSERT INTO post_categories (post_id, category_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(post_id, category_id) for category_id in fields.category_ids],
        )
        return post_id

    def set_author_name(self, post_ids: list[int], name: str) -> None:
        self._raw.executemany(
            "UPDATE posts SET author_name = ? WHERE id = ?", [(name, post_id) for post_id in post_ids]
        )

    def set_html_body(self, post_id: int, body_html: str) -> None:
        self._raw.execute(
            "UPDATE posts SET body_markdown = ?, body_html = ?, body_text = ? WHERE id = ?",
            (body_html, body_html, html_to_text(body_html), post_id),
        )

    def category_id(self, slug: str) -> int | None:
        row = self._raw.execute("SELECT id FROM categories WHERE slug = ?", (slug,)).fetchone()
        return None if row is None else int(row[0])

    def upsert_category(self, slug: str, name: str, parent_id: int | None, description: str) -> int:
        """The category with this slug, created or given the export's name, parent and description; its id."""
        self._raw.execute(
            UPSERT_CATEGORY,
            (slug, name, parent_id, description, to_text(utcnow())),
        )
        found = self.category_id(slug)
        assert found is not None
        return found

    def record_old_links(self, post_id: int, paths: Iterable[str]) -> None:
        """Old paths of a post; a path already known keeps its owner."""
        self._raw.executemany(
            "INSERT INTO old_links (path, post_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(path, post_id) for path in paths],
        )

    def record_old_target(self, path: str, target: str) -> None:
        self._raw.execute("INSERT INTO old_links (path, target) VALUES (?, ?) ON CONFLICT DO NOTHING", (path, target))

    def comment_id_by_wp_id(self, wp_comment_id: int) -> int | None:
        row = self._raw.execute("SELECT id FROM comments WHERE wp_comment_id = ?", (wp_comment_id,)).fetchone()
        return None if row is None else int(row[0])

    def visitor_author(self, name: str, email: str, website: str | None) -> int:
        """One author row per (email, name, website), as for web comments."""
        return author_row_sync(self._raw, VisitorAuthor(name, email, website))

    def insert_comment(self, new: NewComment) -> int:
        return insert_comment_sync(self._raw, new)

    def set_comment_parents(self, parents: Iterable[tuple[int, int]]) -> None:
        """(comment id, parent id) pairs: threading set once every comment of a post exists."""
        self._raw.executemany(
            "UPDATE comments SET parent_id = ? WHERE id = ?", [(parent, child) for child, parent in parents]
        )

    def insert_outbox_create(self, activity_id: str, object_id: str, body: str, published_at: str) -> None:
        """A Create in the outbox collection (so that the post's activity dereferences), with no deliveries."""
        self._raw.execute(
            "INSERT INTO outbox (id, type, object_id, body, public, published_at) "
            "VALUES (?, 'Create', ?, ?, 1, ?) ON CONFLICT DO NOTHING",
            (activity_id, object_id, body, published_at),
        )

    def newest_comment_id(self) -> int:
        return int(self._raw.execute("SELECT COALESCE(MAX(id), 0) FROM comments").fetchone()[0])

    def skip_notifications_of_import(self, newest_before: int) -> None:
        """The e-mail notifier's comments mark moved past the imported comments, when it had announced every comment
        before them: an import is not news for the author (store/notifications.py keeps the mark's format)."""
        self._raw.execute(
            "UPDATE notification_marks SET last_id = (SELECT MAX(id) FROM comments), "
            "last_stamp = (SELECT created_at || '|' || author_id || '|' || post_id FROM comments "
            "ORDER BY id DESC LIMIT 1) WHERE stream = 'comments' AND last_id >= ? "
            "AND EXISTS (SELECT 1 FROM comments WHERE id > ?)",
            (newest_before, newest_before),
        )
