"""login throttle counters and tenant invitations

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:00:00.000000

`login_failures` (one row per failure, counted with SELECT count(*), which let concurrent
attempts all pass) gives way to `login_throttle`: one counter per key, bumped atomically before
a password is checked. Its rows are short-lived, so none are carried over.
"""

import sqlalchemy as sa
from alembic import op

import mantle.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_login_failures_email_at", table_name="login_failures")
    op.drop_index("ix_login_failures_client_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(op.f("ix_login_throttle_window_ends_at"), "login_throttle", ["window_ends_at"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_invitations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_tenant_id"), "invitations", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invitations_tenant_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_login_throttle_window_ends_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "at"])
