"""Migrations: a single head; from empty to head on SQLite and PostgreSQL; and the ORM tables
match what the migrations build (so a model change without a migration fails here)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from mantle.db import migrate
from mantle.db.models import Base


def test_single_head():
    assert len(migrate.heads()) == 1


def test_upgrade_from_empty_builds_every_table(migrated_url):
    engine = create_engine(migrate.alembic_config(migrated_url).attributes["database_url"])
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": migrate.include_object}
            context = MigrationContext.configure(conn, opts=opts)
            assert set(context.get_current_heads()) == set(migrate.heads())
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_name_search_has_a_trigram_index_on_postgresql(migrated_url):
    engine = create_engine(migrate.alembic_config(migrated_url).attributes["database_url"])
    try:
        names = {i["name"] for i in inspect(engine).get_indexes("datasets")}
        assert ("ix_datasets_name_trgm" in names) == (engine.dialect.name == "postgresql")
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(migrated_url):
    migrate.upgrade(migrated_url)
    migrate.upgrade(migrated_url)


def test_db_upgrade_command_on_a_new_sqlite_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from mantle.cli.main import app

    monkeypatch.setenv("MANTLE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "mantle.db").exists()
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'mantle.db'}")
    assert "tenants" in inspect(engine).get_table_names()
    engine.dispose()
