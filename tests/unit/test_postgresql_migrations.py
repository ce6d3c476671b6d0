"""Every SQLite migration has its PostgreSQL twin with the same number and name, and the other way round: a
migration added for one backend only would leave the other's schema behind (docs/DATABASES.md)."""

from __future__ import annotations

from importlib import resources

from fedblog.store.db import available_migrations


def names(folder: str) -> set[str]:
    root = resources.files("fedblog.store") / "migrations"
    entries = (root / folder).iterdir() if folder else root.iterdir()
    return {entry.name for entry in entries if entry.name.endswith(".sql")}


def test_migrations__every_sqlite_migration_has_its_postgresql_twin() -> None:
    sqlite, postgresql = names(""), names("postgresql")
    assert sorted(sqlite - postgresql) == [], "SQLite migrations without a twin in migrations/postgresql/"
    assert sorted(postgresql - sqlite) == [], "PostgreSQL migrations without a SQLite one"


def test_migrations__both_backends_reach_the_same_version() -> None:
    numbers = [version for version, _ in available_migrations()]
    assert numbers == [version for version, _ in available_migrations("postgresql")]
    assert len(numbers) == len(set(numbers))
