"""Data types and their versions (`data_types`, `data_type_versions`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mantle.db import dialects
from mantle.db.models import SqlDataType, SqlDataTypeVersion


def get_by_name(session: Session, tenant_id: uuid.UUID, name: str) -> SqlDataType | None:
    return session.scalar(
        select(SqlDataType).where(SqlDataType.tenant_id == tenant_id, SqlDataType.name == name)
    )


def get(session: Session, tenant_id: uuid.UUID, type_id: uuid.UUID) -> SqlDataType | None:
    return session.scalar(
        select(SqlDataType).where(SqlDataType.tenant_id == tenant_id, SqlDataType.id == type_id)
    )


def list_all(session: Session, tenant_id: uuid.UUID) -> list[SqlDataType]:
    query = select(SqlDataType).where(SqlDataType.tenant_id == tenant_id)
    return list(session.scalars(query.order_by(SqlDataType.name)))


def count_builtin(session: Session, tenant_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        SqlDataType.tenant_id == tenant_id, SqlDataType.builtin.is_(True)
    )
    return session.scalar(query) or 0


def insert_missing(session: Session, rows: Iterable[dict]) -> None:
    """Insert type rows whose (tenant, name) is free; a concurrent seeder is not an error."""
    rows = list(rows)
    if rows:
        session.execute(dialects.insert_ignoring_conflicts(session, SqlDataType.__table__), rows)


def insert_missing_versions(session: Session, rows: Iterable[dict]) -> None:
    rows = list(rows)
    if rows:
        table = SqlDataTypeVersion.__table__
        session.execute(dialects.insert_ignoring_conflicts(session, table), rows)


def add(session: Session, **fields) -> SqlDataType:
    row = SqlDataType(**fields)
    session.add(row)
    session.flush()
    return row


def add_version(session: Session, **fields) -> SqlDataTypeVersion:
    row = SqlDataTypeVersion(**fields)
    session.add(row)
    session.flush()
    return row


def bump_if_version(session: Session, type_id: uuid.UUID, expected: int, **values) -> bool:
    """Move the type to `expected + 1` unless someone else already did (the optimistic lock)."""
    result = session.execute(
        update(SqlDataType)
        .where(SqlDataType.id == type_id, SqlDataType.version == expected)
        .values(version=expected + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def get_version(session: Session, type_id: uuid.UUID, version: int) -> SqlDataTypeVersion | None:
    return session.get(SqlDataTypeVersion, (type_id, version))


def list_versions(session: Session, type_id: uuid.UUID) -> list[SqlDataTypeVersion]:
    query = select(SqlDataTypeVersion).where(SqlDataTypeVersion.data_type_id == type_id)
    return list(session.scalars(query.order_by(SqlDataTypeVersion.version)))
