"""Runs, their transitions, tasks and outputs. Every lookup goes through the tenant: another
tenant's run is simply not found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from mantle.db import dialects
from mantle.db.models import (
    SqlDataset,
    SqlPipeline,
    SqlRun,
    SqlRunOutput,
    SqlRunTask,
    SqlRunTransition,
)


def get(session: Session, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SqlRun | None:
    return session.scalar(select(SqlRun).where(SqlRun.tenant_id == tenant_id, SqlRun.id == run_id))


def get_by_number(session: Session, tenant_id: uuid.UUID, number: int) -> SqlRun | None:
    return session.scalar(
        select(SqlRun).where(SqlRun.tenant_id == tenant_id, SqlRun.number == number)
    )


def get_by_idempotency_key(session: Session, tenant_id: uuid.UUID, key: str) -> SqlRun | None:
    return session.scalar(
        select(SqlRun).where(SqlRun.tenant_id == tenant_id, SqlRun.idempotency_key == key)
    )


def lock(session: Session, run_id: uuid.UUID) -> SqlRun | None:
    """The run, re-read and locked (PostgreSQL) for a state change."""
    return session.scalar(
        select(SqlRun)
        .where(SqlRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True)
class RunFilter:
    statuses: tuple[str, ...] = ()
    pipeline: str | None = None
    created_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    labels: tuple[str, ...] = ()


def page(
    session: Session, tenant_id: uuid.UUID, where: RunFilter, limit: int, before: int | None
) -> list[SqlRun]:
    """Up to `limit` runs, newest first (by number), with numbers below `before`."""
    query = select(SqlRun).where(SqlRun.tenant_id == tenant_id)
    if where.statuses:
        query = query.where(SqlRun.status.in_(where.statuses))
    if where.pipeline:
        query = query.join(SqlPipeline, SqlPipeline.id == SqlRun.pipeline_id).where(
            SqlPipeline.name == where.pipeline
        )
    if where.created_by:
        query = query.where(SqlRun.created_by == where.created_by)
    if where.since:
        query = query.where(SqlRun.created_at >= where.since)
    if where.until:
        query = query.where(SqlRun.created_at < where.until)
    json_ops = dialects.json_predicates(session)
    for label in where.labels:
        query = query.where(json_ops.array_has(SqlRun.labels, label))
    if before is not None:
        query = query.where(SqlRun.number < before)
    return list(session.scalars(query.order_by(SqlRun.number.desc()).limit(limit)))


def transitions(session: Session, run_id: uuid.UUID) -> list[SqlRunTransition]:
    return list(
        session.scalars(
            select(SqlRunTransition)
            .where(SqlRunTransition.run_id == run_id)
            .order_by(SqlRunTransition.seq)
        )
    )


def tasks(session: Session, run_id: uuid.UUID, limit: int, after: int | None) -> list[SqlRunTask]:
    query = select(SqlRunTask).where(SqlRunTask.run_id == run_id)
    if after is not None:
        query = query.where(SqlRunTask.task_id > after)
    return list(session.scalars(query.order_by(SqlRunTask.task_id).limit(limit)))


def task_native_ids(session: Session, run_id: uuid.UUID) -> list[str]:
    return [
        native_id
        for native_id in session.scalars(
            select(SqlRunTask.native_id).where(SqlRunTask.run_id == run_id)
        )
        if native_id and native_id != "-"
    ]


def outputs(session: Session, run_id: uuid.UUID) -> list[tuple[SqlRunOutput, SqlDataset | None]]:
    query = (
        select(SqlRunOutput, SqlDataset)
        .outerjoin(SqlDataset, SqlDataset.id == SqlRunOutput.dataset_id)
        .where(SqlRunOutput.run_id == run_id)
        .order_by(SqlRunOutput.path)
        # The dataset's data type is eager-loaded by an inner join, which would drop the
        # outputs that made no dataset: not needed here.
        .options(lazyload(SqlDataset.data_type))
    )
    return [(o, d) for o, d in session.execute(query)]
