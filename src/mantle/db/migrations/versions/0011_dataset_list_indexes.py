"""indexes for the Data page's dataset list: type + name, tenant + updated_at, and counts
that read the index alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:30:00.000000

Measured on 1,000,000 datasets (bench/ui_table.py):

- a type's datasets sorted by name walked the tenant-wide name index and skipped the rows of
  other types; `(tenant_id, data_type_id, name, number)` serves the sort and its keyset pages
  for one type directly;
- the list's count (`count=true`) reuses a cached count while the tenant's datasets have not
  changed; telling that needs the latest `updated_at` of the tenant, `(tenant_id, updated_at,
  number)` answers it in one index lookup (and serves the tenant-wide `sort=updated_at`);
- `archived` joins the type + created_at index after the type: a type's live datasets
  (`archived = false`, the list's default) are one range of it, in created_at order, counted
  from the index alone instead of a million table rows; and with three equal columns it is
  the index SQLite's planner takes to sort a type by a property (which needs a full pass
  anyway), reading the table in insertion order rather than in name order.
  Listing archived and live datasets together by created_at uses ix_datasets_created.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TYPE_CREATED = ["tenant_id", "data_type_id", "created_at", "number"]


def upgrade() -> None:
    op.drop_index("ix_datasets_type_created", table_name="datasets")
    op.create_index(
        "ix_datasets_type_created",
        "datasets",
        ["tenant_id", "data_type_id", "archived", "created_at", "number"],
    )
    op.create_index(
        "ix_datasets_type_name", "datasets", ["tenant_id", "data_type_id", "name", "number"]
    )
    op.create_index("ix_datasets_updated", "datasets", ["tenant_id", "updated_at", "number"])


def downgrade() -> None:
    op.drop_index("ix_datasets_updated", table_name="datasets")
    op.drop_index("ix_datasets_type_name", table_name="datasets")
    op.drop_index("ix_datasets_type_created", table_name="datasets")
    op.create_index("ix_datasets_type_created", "datasets", TYPE_CREATED)
