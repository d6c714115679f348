"""trigram index for dataset name search (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:20:00.000000

`name contains "liver"` is `lower(name) LIKE '%liver%'`; a B-tree cannot serve a pattern
with a leading wildcard, a pg_trgm GIN index can. The extension needs the CREATE privilege on
the database (PostgreSQL 13+ treats pg_trgm as trusted); where it cannot be created, search
still works, unindexed, and the migration says what to run.
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_datasets_name_trgm"
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():  # a savepoint: a refusal must not abort the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as e:
        log.warning(
            "pg_trgm is not available (%s); dataset name search works without an index. "
            "As a superuser: CREATE EXTENSION pg_trgm; CREATE INDEX %s ON datasets "
            "USING gin (lower(name) gin_trgm_ops);",
            type(e.orig).__name__,
            INDEX,
        )
        return
    op.create_index(
        INDEX, "datasets", [sa.text("lower(name) gin_trgm_ops")], postgresql_using="gin"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
