"""ORM tables. Rows are named `Sql...`; the API speaks in the schemas of `mantle.schemas`.

Every table that holds tenant data carries `tenant_id`; repositories always filter on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mantle.db.types import JSONDocument, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class SqlTenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[SqlMembership]] = relationship(back_populates="tenant")


class SqlUser(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[SqlMembership]] = relationship(back_populates="user")


class SqlMembership(Base):
    __tablename__ = "memberships"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[SqlTenant] = relationship(back_populates="memberships")
    user: Mapped[SqlUser] = relationship(back_populates="memberships")


class SqlApiToken(Base):
    """An API token: only its SHA-256 digest is stored; the secret is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[SqlUser] = relationship()


class SqlBrowserSession(Base):
    """A logged-in browser. The cookie carries the secret; the table keeps its digest."""

    __tablename__ = "browser_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[SqlUser] = relationship()


class SqlLoginThrottle(Base):
    """Failed-password counters, each counted in a fixed window: one row per account, per
    client address and per (account, address) pair. The key is a digest, so the table holds
    no emails. Bumped atomically before a password is checked (`accounts.throttle`)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SqlInvitation(Base):
    """An invitation to join a tenant with a role. Only the token's digest is stored; the
    invitee accepts explicitly (as a logged-in user, or by setting a password)."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    tenant: Mapped[SqlTenant] = relationship()
    invited_by: Mapped[SqlUser | None] = relationship()


# --- AWS environments (mantle.cloud.aws) ---------------------------------------------------


class SqlTenantAws(Base):
    """A tenant's AWS identity towards customers: the external id its roles' trust policies
    require (generated once, never changed: changing it would break every trust policy)."""

    __tablename__ = "tenant_aws"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SqlEnvironment(Base):
    """Where a tenant's runs happen: an AWS account, region, buckets and Batch queues.

    Access keys live only in `secrets_ciphertext` (AES-GCM, see `cloud.aws.crypto`), with the
    id of the key that sealed them in `secrets_key_id` so rotation can find stale rows.
    """

    __tablename__ = "aws_environments"
    # Also serves as the index for "a tenant's environments".
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(12))
    credentials_kind: Mapped[str] = mapped_column(String(16))
    role_arn: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    access_key_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    secrets_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    secrets_key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    write_bucket: Mapped[str] = mapped_column(String(63))
    write_prefix: Mapped[str] = mapped_column(String(512), default="")
    read_buckets: Mapped[list] = mapped_column(JSON, default=list)
    head_queue: Mapped[str] = mapped_column(String(128))
    compute_queue: Mapped[str] = mapped_column(String(128))
    head_image: Mapped[str] = mapped_column(String(512))
    head_vcpus: Mapped[int] = mapped_column(Integer)
    head_memory_mib: Mapped[int] = mapped_column(Integer)
    cli_path: Mapped[str] = mapped_column(String(1024))
    nextflow_config: Mapped[str] = mapped_column(Text, default="")
    log_group: Mapped[str] = mapped_column(String(512))
    use_ecr: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- Catalog: data types, datasets and their versions, lineage (mantle.catalog) -------------


class SqlCatalogCounter(Base):
    """Per-tenant sequences (`dataset` -> DS-000042), bumped by an atomic UPDATE."""

    __tablename__ = "catalog_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class SqlDataType(Base):
    """A tenant's named property schema; `properties` is a list of property definitions."""

    __tablename__ = "data_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[list] = mapped_column(JSONDocument, default=list)
    additional_properties: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SqlDataTypeVersion(Base):
    __tablename__ = "data_type_versions"

    data_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_types.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[list] = mapped_column(JSONDocument, default=list)
    additional_properties: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")


def _postgres_gin(name: str, column: str) -> Index:
    # GIN exists only on PostgreSQL. On SQLite the same declaration becomes a partial index
    # that holds no rows (WHERE 0), so both engines match the ORM and SQLite pays nothing.
    return Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: "jsonb_path_ops"},
        sqlite_where=text("0"),
    )


class SqlDataset(Base):
    """A dataset's current state; every state it has had is a row of `dataset_versions`.

    `version` is bumped by `UPDATE ... WHERE version = :expected`, which is the optimistic lock.
    The indexes serve the catalog's list: tenant + type + sort key (keyset pagination on
    (key, number)), and on PostgreSQL GIN for property, tag and file (checksum) containment.
    """

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index(  # a type's live datasets (archived = false), newest first; counted from it alone
            "ix_datasets_type_created",
            "tenant_id",
            "data_type_id",
            "archived",
            "created_at",
            "number",
        ),
        Index("ix_datasets_type_name", "tenant_id", "data_type_id", "name", "number"),
        Index("ix_datasets_created", "tenant_id", "created_at", "number"),
        Index("ix_datasets_name", "tenant_id", "name", "number"),
        Index("ix_datasets_updated", "tenant_id", "updated_at", "number"),  # CountCache's mark
        _postgres_gin("ix_datasets_properties", "properties"),
        _postgres_gin("ix_datasets_tags", "tags"),
        _postgres_gin("ix_datasets_files", "files"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    data_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_types.id"))
    data_type_version: Mapped[int] = mapped_column(Integer)
    properties: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    files: Mapped[list] = mapped_column(JSONDocument, default=list)
    tags: Mapped[list] = mapped_column(JSONDocument, default=list)
    origin: Mapped[str] = mapped_column(String(32))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    data_type: Mapped[SqlDataType] = relationship(lazy="joined", innerjoin=True)


class SqlDatasetVersion(Base):
    """The full snapshot of one version of a dataset, and what changed to make it."""

    __tablename__ = "dataset_versions"

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(500))
    data_type_version: Mapped[int] = mapped_column(Integer)
    properties: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    files: Mapped[list] = mapped_column(JSONDocument, default=list)
    tags: Mapped[list] = mapped_column(JSONDocument, default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")


class SqlActivity(Base):
    """Something that read and/or made datasets: an upload, an import, a pipeline run."""

    __tablename__ = "activities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")


class SqlActivityDataset(Base):
    """A lineage edge: `dataset` was an input to, or an output of, `activity`."""

    __tablename__ = "activity_datasets"
    __table_args__ = (Index("ix_activity_datasets_dataset_role", "dataset_id", "role"),)

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(8), primary_key=True)


# --- background jobs ---------------------------------------------------------------------


class SqlJob(Base):
    """A unit of background work (imports, later run monitoring), claimed under a lease."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSONDocument)
    progress: Mapped[dict] = mapped_column(JSONDocument)
    checkpoint: Mapped[dict] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not claimed before this time: a delayed start, or the backoff after a transient failure.
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- uploads (mantle.catalog.uploads) -----------------------------------------------------


class SqlUpload(Base):
    """An upload in progress: the dataset it will become and its files' multipart uploads.
    The dataset exists only once every file is verified and the upload completes."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    dataset: Mapped[dict] = mapped_column(JSONDocument)
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True
    )
    part_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[SqlUploadFile]] = relationship(
        back_populates="upload", order_by="SqlUploadFile.position", lazy="selectin"
    )


class SqlUploadFile(Base):
    __tablename__ = "upload_files"
    __table_args__ = (UniqueConstraint("upload_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(1024))
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    part_count: Mapped[int] = mapped_column(Integer)
    multipart_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    # "crc32": every part's URL is signed with its CRC32 (storage checks it); NULL: none.
    checksum: Mapped[str | None] = mapped_column(String(16), nullable=True)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)

    upload: Mapped[SqlUpload] = relationship(back_populates="files")


# --- imports from read buckets (mantle.catalog.imports) ------------------------------------


class SqlImportObject(Base):
    """An object an import matched, staged so that an interrupted import resumes."""

    __tablename__ = "import_objects"
    __table_args__ = (Index("ix_import_objects_job_group", "job_id", "group_key"),)

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(1024))
    role: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict] = mapped_column(JSONDocument)


class SqlImportSource(Base):
    """What an import made from which objects: re-running an import creates no duplicates."""

    __tablename__ = "import_sources"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    source_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))


# --- pipelines (mantle.pipelines) ----------------------------------------------------------


class SqlPipeline(Base):
    """A pipeline a tenant can run: a Nextflow repository or a script pipeline."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    engine: Mapped[str] = mapped_column(String(16))  # "nextflow" | "script"
    description: Mapped[str] = mapped_column(Text, default="")
    repository: Mapped[str] = mapped_column(String(2048), default="")  # git URL; "" if built in
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")


class SqlPipelineVersion(Base):
    """One immutable version of a pipeline: the revision asked for, the exact commit it
    resolved to, and what was read at that commit (params schema, samplesheet schema), with
    the output rules that turn its published files into datasets."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[str] = mapped_column(String(255), default="")
    commit: Mapped[str] = mapped_column(String(64), default="")
    main_script: Mapped[str] = mapped_column(String(255), default="main.nf")
    params_schema: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    input_schema: Mapped[dict | None] = mapped_column(JSONDocument, nullable=True)
    samplesheet: Mapped[dict | None] = mapped_column(JSONDocument, nullable=True)
    output_rules: Mapped[list] = mapped_column(JSONDocument, default=list)
    script: Mapped[dict | None] = mapped_column(JSONDocument, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")

    pipeline: Mapped[SqlPipeline] = relationship(lazy="joined", innerjoin=True)


# --- runs (mantle.runs) --------------------------------------------------------------------


class SqlRun(Base):
    """A pipeline run: what was launched (pipeline version, params, inputs), where it runs
    (executor, environment, run directory), its state, and the monitor's lease on it."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_runs_tenant_number"),
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_runs_tenant_idempotency_key"),
        Index("ix_runs_status_next_check_at", "status", "next_check_at"),
        Index("ix_runs_tenant_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipelines.id"))
    pipeline_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipeline_versions.id"))
    commit: Mapped[str] = mapped_column(String(64), default="")
    environment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("aws_environments.id", ondelete="SET NULL"), nullable=True
    )
    executor: Mapped[str] = mapped_column(String(16))  # "local" | "awsbatch"
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    inputs: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    labels: Mapped[list] = mapped_column(JSONDocument, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    run_dir: Mapped[str] = mapped_column(String(2048), default="")
    work_dir: Mapped[str] = mapped_column(String(2048), default="")
    session_id: Mapped[str] = mapped_column(String(64), default="")  # Nextflow's, for -resume
    external_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    executor_group: Mapped[str | None] = mapped_column(String(128), nullable=True)
    relaunch_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )
    resume_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )
    events_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outputs_state: Mapped[str] = mapped_column(String(16), default="")  # "" | pending | done
    activity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The monitor: which worker holds the run, until when, and when it is next looked at.
    monitor_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    monitor_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SqlRunTransition(Base):
    """One state change of a run, with when and why."""

    __tablename__ = "run_transitions"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SqlRunTask(Base):
    """One task (process execution) of a run, from Nextflow's trace file and weblog events."""

    __tablename__ = "run_tasks"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    hash: Mapped[str] = mapped_column(String(32), default="")
    native_id: Mapped[str] = mapped_column(String(256), default="")
    process: Mapped[str] = mapped_column(String(512), default="")
    tag: Mapped[str] = mapped_column(String(1024), default="")
    name: Mapped[str] = mapped_column(String(1024), default="")
    status: Mapped[str] = mapped_column(String(16), default="")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    realtime_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cpu_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_rss: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    workdir: Mapped[str] = mapped_column(String(2048), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SqlRunOutput(Base):
    """A published file of a run that became (part of) a dataset: the guard that makes output
    ingestion happen exactly once."""

    __tablename__ = "run_outputs"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True
    )
