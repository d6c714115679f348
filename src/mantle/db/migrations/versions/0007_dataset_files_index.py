"""index on dataset files (PostgreSQL), for finding datasets by a file's checksum

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:50:00.000000

`mantle upload` asks whether the same content is already a dataset (`checksum=crc32:...`):
`files @> '[{"checksum": ...}]'`, served by GIN (jsonb_path_ops) as for properties and tags.
On SQLite the declaration is an empty partial index, like the others.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GIN = {
    "postgresql_using": "gin",
    "postgresql_ops": {"files": "jsonb_path_ops"},
    "sqlite_where": sa.text("0"),
}


def upgrade() -> None:
    op.create_index("ix_datasets_files", "datasets", ["files"], unique=False, **GIN)


def downgrade() -> None:
    op.drop_index("ix_datasets_files", table_name="datasets", **GIN)
