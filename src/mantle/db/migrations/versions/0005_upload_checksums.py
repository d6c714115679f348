"""upload files remember their checksum mode (CRC32 per part)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for uploads opened before: their parts go on without checksums.
    op.add_column("upload_files", sa.Column("checksum", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("upload_files", "checksum")
