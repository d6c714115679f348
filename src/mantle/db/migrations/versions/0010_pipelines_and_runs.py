"""pipelines and runs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:23:38.407570

Pipelines with immutable versions, runs with their state transitions, tasks (from the
trace file and weblog events) and the outputs guard that makes ingestion happen once.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mantle.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("repository", sa.String(length=2048), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pipelines_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_pipelines_tenant_id")),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=255), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("main_script", sa.String(length=255), nullable=False),
        sa.Column(
            "params_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "input_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "samplesheet",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "output_rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "script",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_versions_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pipeline_versions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_versions")),
        sa.UniqueConstraint(
            "pipeline_id", "version", name=op.f("uq_pipeline_versions_pipeline_id")
        ),
    )
    op.create_index(
        op.f("ix_pipeline_versions_tenant_id"), "pipeline_versions", ["tenant_id"], unique=False
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), nullable=False),
        sa.Column("pipeline_version_id", sa.Uuid(), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=True),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("run_dir", sa.String(length=2048), nullable=False),
        sa.Column("work_dir", sa.String(length=2048), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("executor_group", sa.String(length=128), nullable=True),
        sa.Column("relaunch_of", sa.Uuid(), nullable=True),
        sa.Column("resume_of", sa.Uuid(), nullable=True),
        sa.Column("events_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("outputs_state", sa.String(length=16), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("monitor_owner", sa.String(length=128), nullable=True),
        sa.Column("monitor_lease_until", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_runs_activity_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_runs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["aws_environments.id"],
            name=op.f("fk_runs_environment_id_aws_environments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"], ["pipelines.id"], name=op.f("fk_runs_pipeline_id_pipelines")
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_runs_pipeline_version_id_pipeline_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["relaunch_of"], ["runs.id"], name=op.f("fk_runs_relaunch_of_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resume_of"], ["runs.id"], name=op.f("fk_runs_resume_of_runs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_runs_tenant_idempotency_key"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_runs_tenant_number"),
    )
    op.create_index(
        "ix_runs_status_next_check_at", "runs", ["status", "next_check_at"], unique=False
    )
    op.create_index("ix_runs_tenant_created_at", "runs", ["tenant_id", "created_at"], unique=False)

    op.create_table(
        "run_outputs",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_run_outputs_dataset_id_datasets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_outputs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "path", name=op.f("pk_run_outputs")),
    )
    op.create_table(
        "run_tasks",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("hash", sa.String(length=32), nullable=False),
        sa.Column("native_id", sa.String(length=256), nullable=False),
        sa.Column("process", sa.String(length=512), nullable=False),
        sa.Column("tag", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("submitted_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", mantle.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("realtime_ms", sa.BigInteger(), nullable=True),
        sa.Column("cpu_percent", sa.Float(), nullable=True),
        sa.Column("peak_rss", sa.BigInteger(), nullable=True),
        sa.Column("workdir", sa.String(length=2048), nullable=False),
        sa.Column("updated_at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_tasks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_run_tasks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "task_id", name=op.f("pk_run_tasks")),
    )
    op.create_table(
        "run_transitions",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", mantle.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_transitions_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_run_transitions")),
    )


def downgrade() -> None:
    op.drop_table("run_transitions")
    op.drop_table("run_tasks")
    op.drop_table("run_outputs")
    op.drop_index("ix_runs_tenant_created_at", table_name="runs")
    op.drop_index("ix_runs_status_next_check_at", table_name="runs")

    op.drop_table("runs")
    op.drop_index(op.f("ix_pipeline_versions_tenant_id"), table_name="pipeline_versions")

    op.drop_table("pipeline_versions")
    op.drop_table("pipelines")
