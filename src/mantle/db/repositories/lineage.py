"""Lineage: activities and their input/output edges to datasets."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mantle.db.models import SqlActivity, SqlActivityDataset, SqlDataset

INPUT, OUTPUT = "input", "output"


def add_activity(session: Session, **fields) -> SqlActivity:
    row = SqlActivity(**fields)
    session.add(row)
    session.flush()
    return row


def add_edges(session: Session, activity_id: uuid.UUID, edges: Iterable[tuple[uuid.UUID, str]]):
    rows = [{"activity_id": activity_id, "dataset_id": d, "role": role} for d, role in edges]
    if rows:
        session.execute(insert(SqlActivityDataset), rows)


def get_activity(session: Session, tenant_id: uuid.UUID, activity_id) -> SqlActivity | None:
    return session.scalar(
        select(SqlActivity).where(SqlActivity.tenant_id == tenant_id, SqlActivity.id == activity_id)
    )


def edges_of_datasets(
    session: Session, dataset_ids: Iterable[uuid.UUID], role: str
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(activity_id, dataset_id) for the datasets' edges in `role`."""
    query = select(SqlActivityDataset.activity_id, SqlActivityDataset.dataset_id).where(
        SqlActivityDataset.dataset_id.in_(list(dataset_ids)), SqlActivityDataset.role == role
    )
    return [(a, d) for a, d in session.execute(query)]


def edges_of_activities(
    session: Session, activity_ids: Iterable[uuid.UUID], role: str | None = None
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(activity_id, dataset_id, role) for the activities' edges."""
    query = select(
        SqlActivityDataset.activity_id, SqlActivityDataset.dataset_id, SqlActivityDataset.role
    ).where(SqlActivityDataset.activity_id.in_(list(activity_ids)))
    if role is not None:
        query = query.where(SqlActivityDataset.role == role)
    return [(a, d, r) for a, d, r in session.execute(query)]


def activities(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]):
    query = select(SqlActivity).where(
        SqlActivity.tenant_id == tenant_id, SqlActivity.id.in_(list(ids))
    )
    return list(session.scalars(query))


def datasets(session: Session, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]):
    query = select(SqlDataset).where(
        SqlDataset.tenant_id == tenant_id, SqlDataset.id.in_(list(ids))
    )
    return list(session.scalars(query))
