-- Images uploaded by the author: one row per upload; the files (original re-encoded without metadata, and
-- smaller variants named NAME-WIDTH.EXT) live in the media folder.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL DEFAULT '',
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    alt_text TEXT NOT NULL DEFAULT '',
    blurhash TEXT NOT NULL DEFAULT '',
    variant_widths TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX media_by_date ON media (created_at DESC, id DESC);
