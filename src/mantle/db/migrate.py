"""Alembic, driven from code: `mantle db upgrade` and the test suite both call `upgrade()`;
every other server-side command opens its database with `open_current()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mantle.db import dialects, sort_indexes
from mantle.db.engine import Database, describe, sqlite_path
from mantle.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Indexes that only migrations manage (engine extensions the ORM cannot declare portably,
# e.g. the pg_trgm index of 0006); comparing the ORM with the database skips them.
MIGRATION_ONLY_INDEXES = frozenset({"ix_datasets_name_trgm"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object` hook for autogenerate and the ORM/migration check: not the
    migration-only indexes, nor the sort indexes made at run time (db/sort_indexes.py)."""
    if type_ != "index":
        return True
    return name not in MIGRATION_ONLY_INDEXES and not (name or "").startswith(sort_indexes.PREFIX)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = dialects.normalize_url(url)
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Create (SQLite) or migrate the database; an unreachable one fails in one line."""
    db = Database(url)
    try:
        db.check_connection()
    finally:
        db.dispose()
    command.upgrade(alembic_config(url), revision)
    if revision == "heads":  # the sort indexes of existing data types (db/sort_indexes.py)
        db = Database(url)
        try:
            sort_indexes.sync_all(db.engine)
        finally:
            db.dispose()


def heads(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def open_current(url: str) -> Database:
    """The database of a server-side command (`server`, `worker`, `users create`...): it must
    exist and be at the latest schema. Nothing is created, so a command run in the wrong
    folder says where it looked instead of quietly starting an empty database."""
    elsewhere = "or set MANTLE_DATA_DIR or MANTLE_DATABASE__URL to the server's database"
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise ConfigurationError(
            f"there is no database at {path.resolve()}: run `mantle db upgrade` to create it, "
            f"{elsewhere}"
        )
    db = Database(url)
    try:
        db.check_connection()
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except BaseException:
        db.dispose()
        raise
    if current != set(heads()):
        db.dispose()
        state = "is not at the latest schema" if current else "has no Mantle schema"
        raise ConfigurationError(f"{describe(url)} {state}: run `mantle db upgrade`, {elsewhere}")
    return db
