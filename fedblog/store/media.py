"""Uploaded images (the media table); the files themselves are written by services/media."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import MediaItem
from fedblog.store.db import Database, Row

_COLUMNS = (
    "id, file_name, original_name, media_type, width, height, size_bytes, alt_text, blurhash, variant_widths, "
    "created_at"
)


@dataclass(frozen=True)
class NewMedia:
    file_name: str
    original_name: str
    media_type: str
    width: int
    height: int
    size_bytes: int
    alt_text: str
    blurhash: str
    variant_widths: tuple[int, ...]


def row_to_media(row: Row) -> MediaItem:
    widths = tuple(int(part) for part in row["variant_widths"].split(",") if part)
    return MediaItem(
        id=row["id"],
        file_name=row["file_name"],
        original_name=row["original_name"],
        media_type=row["media_type"],
        width=row["width"],
        height=row["height"],
        size_bytes=row["size_bytes"],
        alt_text=row["alt_text"],
        blurhash=row["blurhash"],
        variant_widths=widths,
        created_at=from_text(row["created_at"]),  # type: ignore[arg-type]
    )


class MediaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, media: NewMedia) -> MediaItem:
        async with self.db.transaction() as conn:
            media_id = await conn.fetch_value(
                "INSERT INTO media (file_name, original_name, media_type, width, height, size_bytes, alt_text, "
                "blurhash, variant_widths, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    media.file_name,
                    media.original_name,
                    media.media_type,
                    media.width,
                    media.height,
                    media.size_bytes,
                    media.alt_text,
                    media.blurhash,
                    ",".join(str(width) for width in media.variant_widths),
                    to_text(utcnow()),
                ),
            )
        found = await self.get(int(media_id or 0))
        assert found is not None
        return found

    async def get(self, media_id: int) -> MediaItem | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,))
        return None if row is None else row_to_media(row)

    async def list_recent(self, limit: int, offset: int = 0) -> list[MediaItem]:
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM media ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        return [row_to_media(row) for row in rows]

    async def count(self) -> int:
        return int(await self.db.fetch_value("SELECT COUNT(*) FROM media"))

    async def get_by_file_names(self, names: Sequence[str]) -> dict[str, MediaItem]:
        if not names:
            return {}
        marks = ", ".join("?" for _ in names)
        rows = await self.db.fetch_all(f"SELECT {_COLUMNS} FROM media WHERE file_name IN ({marks})", tuple(names))
        return {row["file_name"]: row_to_media(row) for row in rows}

    async def delete(self, media_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM media WHERE id = ?", (media_id,))
