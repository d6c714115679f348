"""Datasets, their version snapshots, and the per-tenant counters behind their short ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.orm import Session

from mantle.db import dialects
from mantle.db.models import SqlCatalogCounter, SqlDataset, SqlDatasetVersion


def allocate_numbers(session: Session, tenant_id: uuid.UUID, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of the tenant's `name` sequence; returns the first.

    The UPDATE takes the counter row's lock until the transaction ends, so concurrent
    creators queue on it instead of reading the same value (PostgreSQL and SQLite alike).
    """
    bump = (
        update(SqlCatalogCounter)
        .where(SqlCatalogCounter.tenant_id == tenant_id, SqlCatalogCounter.name == name)
        .values(value=SqlCatalogCounter.value + count)
        .returning(SqlCatalogCounter.value)
        .execution_options(synchronize_session=False)
    )
    value = session.execute(bump).scalar()
    if value is None:
        first_use = dialects.insert_ignoring_conflicts(session, SqlCatalogCounter.__table__)
        session.execute(first_use.values(tenant_id=tenant_id, name=name, value=0))
        value = session.execute(bump).scalar_one()
    return value - count + 1


def get(session: Session, tenant_id: uuid.UUID, dataset_id: uuid.UUID) -> SqlDataset | None:
    return session.scalar(
        select(SqlDataset)
        .where(SqlDataset.tenant_id == tenant_id, SqlDataset.id == dataset_id)
        .execution_options(populate_existing=True)
    )


def get_by_number(session: Session, tenant_id: uuid.UUID, number: int) -> SqlDataset | None:
    return session.scalar(
        select(SqlDataset)
        .where(SqlDataset.tenant_id == tenant_id, SqlDataset.number == number)
        .execution_options(populate_existing=True)
    )


def find(session: Session, tenant_id: uuid.UUID, *, ids=(), numbers=()) -> list[SqlDataset]:
    """The tenant's datasets among `ids` and `numbers` (others' rows are never returned)."""
    ids, numbers = list(ids), list(numbers)
    if not ids and not numbers:
        return []
    which = []
    if ids:
        which.append(SqlDataset.id.in_(ids))
    if numbers:
        which.append(SqlDataset.number.in_(numbers))
    query = (
        select(SqlDataset)
        .where(SqlDataset.tenant_id == tenant_id)
        .where(which[0] if len(which) == 1 else which[0] | which[1])
    )
    return list(session.scalars(query))


def insert_created(session: Session, datasets: list[dict], versions: list[dict]) -> None:
    """New datasets and their first version snapshots, as plain multi-row INSERTs."""
    if datasets:
        session.execute(insert(SqlDataset), datasets)
        session.execute(insert(SqlDatasetVersion), versions)


def add_versions(session: Session, rows: Iterable[SqlDatasetVersion]) -> None:
    session.add_all(rows)
    session.flush()


def bump_if_version(session: Session, dataset_id: uuid.UUID, expected: int, **values) -> bool:
    """`UPDATE ... SET version = expected + 1 WHERE version = expected`: false when another
    change got there first (the optimistic lock behind 409s)."""
    result = session.execute(
        update(SqlDataset)
        .where(SqlDataset.id == dataset_id, SqlDataset.version == expected)
        .values(version=expected + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def get_version(session: Session, dataset_id: uuid.UUID, version: int) -> SqlDatasetVersion | None:
    return session.get(SqlDatasetVersion, (dataset_id, version))


def list_versions(session: Session, dataset_id: uuid.UUID) -> list[SqlDatasetVersion]:
    query = select(SqlDatasetVersion).where(SqlDatasetVersion.dataset_id == dataset_id)
    return list(session.scalars(query.order_by(SqlDatasetVersion.version)))


def page(session: Session, query: Select) -> list[SqlDataset]:
    return list(session.scalars(query))


def count_statement(conditions: list[ColumnElement[bool]]) -> Select:
    return select(func.count()).select_from(SqlDataset).where(*conditions)


def count(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    return session.scalar(count_statement(conditions)) or 0


def change_mark(session: Session, tenant_id: uuid.UUID) -> tuple:
    """What changes whenever the tenant's datasets do: the last number handed out (every
    creation) and the latest `updated_at` (every change stamps it). Two index lookups."""
    counter = (
        select(SqlCatalogCounter.value)
        .where(SqlCatalogCounter.tenant_id == tenant_id, SqlCatalogCounter.name == "dataset")
        .scalar_subquery()
    )
    latest = (
        select(func.max(SqlDataset.updated_at))
        .where(SqlDataset.tenant_id == tenant_id)
        .scalar_subquery()
    )
    return tuple(session.execute(select(counter, latest)).one())


def properties_of_type(
    session: Session, tenant_id: uuid.UUID, data_type_id: uuid.UUID
) -> Iterable[tuple[int, dict]]:
    """(number, properties) of every dataset of a type, archived ones too, streamed."""
    query = (
        select(SqlDataset.number, SqlDataset.properties)
        .where(SqlDataset.tenant_id == tenant_id, SqlDataset.data_type_id == data_type_id)
        .order_by(SqlDataset.number)
        .execution_options(yield_per=1000)
    )
    for number, properties in session.execute(query):
        yield int(number), properties
