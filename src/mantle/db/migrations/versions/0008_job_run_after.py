"""jobs wait until run_after (delayed starts and retry backoff)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:00:00.000000

Queued jobs are claimed in `run_after` order; existing jobs were due when they were created.
"""

import sqlalchemy as sa
from alembic import op

import mantle.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("run_after", mantle.db.types.UTCDateTime(), nullable=True))
    op.execute("UPDATE jobs SET run_after = created_at")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("run_after", existing_type=mantle.db.types.UTCDateTime(), nullable=False)
        batch.drop_index("ix_jobs_status_created_at")
        batch.create_index("ix_jobs_status_run_after", ["status", "run_after"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_run_after")
        batch.create_index("ix_jobs_status_created_at", ["status", "created_at"])
        batch.drop_column("run_after")
