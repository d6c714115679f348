"""Alembic, driven from code: `mantle db upgrade` and the test suite both call `upgrade()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from mantle.db import dialects

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Indexes that only migrations manage (engine extensions the ORM cannot declare portably,
# e.g. the pg_trgm index of 0006); comparing the ORM with the database skips them.
MIGRATION_ONLY_INDEXES = frozenset({"ix_datasets_name_trgm"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object` hook for autogenerate and the ORM/migration check."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = dialects.normalize_url(url)
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def heads(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
