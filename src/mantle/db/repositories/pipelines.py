"""Pipelines and their versions (`pipelines`, `pipeline_versions`)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mantle.db import dialects
from mantle.db.models import SqlPipeline, SqlPipelineVersion


def get_by_name(session: Session, tenant_id: uuid.UUID, name: str) -> SqlPipeline | None:
    return session.scalar(
        select(SqlPipeline).where(SqlPipeline.tenant_id == tenant_id, SqlPipeline.name == name)
    )


def get(session: Session, tenant_id: uuid.UUID, pipeline_id: uuid.UUID) -> SqlPipeline | None:
    return session.scalar(
        select(SqlPipeline).where(SqlPipeline.tenant_id == tenant_id, SqlPipeline.id == pipeline_id)
    )


def list_all(session: Session, tenant_id: uuid.UUID) -> list[SqlPipeline]:
    query = select(SqlPipeline).where(SqlPipeline.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(SqlPipeline.name)))


def add(session: Session, **fields) -> SqlPipeline:
    row = SqlPipeline(**fields)
    session.add(row)
    session.flush()
    return row


def insert_missing(session: Session, rows: list[dict]) -> None:
    """Insert pipeline rows whose (tenant, name) is free; a concurrent seeder is no error."""
    if rows:
        session.execute(dialects.insert_ignoring_conflicts(session, SqlPipeline.__table__), rows)


def insert_missing_versions(session: Session, rows: list[dict]) -> None:
    if rows:
        table = SqlPipelineVersion.__table__
        session.execute(dialects.insert_ignoring_conflicts(session, table), rows)


def add_version(session: Session, **fields) -> SqlPipelineVersion:
    row = SqlPipelineVersion(**fields)
    session.add(row)
    session.flush()
    return row


def latest_number(session: Session, pipeline_id: uuid.UUID) -> int:
    query = select(func.max(SqlPipelineVersion.version)).where(
        SqlPipelineVersion.pipeline_id == pipeline_id
    )
    return session.scalar(query) or 0


def latest_versions(session: Session, tenant_id: uuid.UUID) -> dict[uuid.UUID, SqlPipelineVersion]:
    """Each of the tenant's pipelines' latest version, by pipeline id, in one query."""
    newest = (
        select(
            SqlPipelineVersion.pipeline_id,
            func.max(SqlPipelineVersion.version).label("version"),
        )
        .where(SqlPipelineVersion.tenant_id == tenant_id)
        .group_by(SqlPipelineVersion.pipeline_id)
        .subquery()
    )
    query = select(SqlPipelineVersion).join(
        newest,
        (SqlPipelineVersion.pipeline_id == newest.c.pipeline_id)
        & (SqlPipelineVersion.version == newest.c.version),
    )
    return {version.pipeline_id: version for version in session.scalars(query)}


def get_version(
    session: Session, pipeline_id: uuid.UUID, version: int
) -> SqlPipelineVersion | None:
    return session.scalar(
        select(SqlPipelineVersion).where(
            SqlPipelineVersion.pipeline_id == pipeline_id, SqlPipelineVersion.version == version
        )
    )


def list_versions(session: Session, pipeline_id: uuid.UUID) -> list[SqlPipelineVersion]:
    query = select(SqlPipelineVersion).where(SqlPipelineVersion.pipeline_id == pipeline_id)
    return list(session.scalars(query.order_by(SqlPipelineVersion.version)))
