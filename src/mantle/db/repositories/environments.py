"""AWS environments and each tenant's external id."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mantle.db.models import SqlEnvironment, SqlTenantAws


def get_tenant_aws(session: Session, tenant_id: uuid.UUID) -> SqlTenantAws | None:
    return session.get(SqlTenantAws, tenant_id)


def add_tenant_aws(session: Session, tenant_id: uuid.UUID, external_id: str) -> SqlTenantAws:
    row = SqlTenantAws(tenant_id=tenant_id, external_id=external_id)
    session.add(row)
    session.flush()
    return row


def get(session: Session, tenant_id: uuid.UUID, name: str) -> SqlEnvironment | None:
    return session.scalar(
        select(SqlEnvironment).where(
            SqlEnvironment.tenant_id == tenant_id, SqlEnvironment.name == name
        )
    )


def get_by_id(session: Session, tenant_id: uuid.UUID, env_id: uuid.UUID) -> SqlEnvironment | None:
    return session.scalar(
        select(SqlEnvironment).where(
            SqlEnvironment.tenant_id == tenant_id, SqlEnvironment.id == env_id
        )
    )


def list_for_tenant(session: Session, tenant_id: uuid.UUID) -> list[SqlEnvironment]:
    return list(
        session.scalars(
            select(SqlEnvironment)
            .where(SqlEnvironment.tenant_id == tenant_id)
            .order_by(SqlEnvironment.created_at, SqlEnvironment.name)
        )
    )


def add(session: Session, row: SqlEnvironment) -> SqlEnvironment:
    session.add(row)
    session.flush()
    return row


def clear_default(session: Session, tenant_id: uuid.UUID, keep: uuid.UUID) -> None:
    session.execute(
        update(SqlEnvironment)
        .where(SqlEnvironment.tenant_id == tenant_id, SqlEnvironment.id != keep)
        .values(is_default=False)
    )


def with_secrets(session: Session) -> list[SqlEnvironment]:
    """Every environment of every tenant holding encrypted secrets (for key rotation)."""
    return list(
        session.scalars(
            select(SqlEnvironment)
            .where(SqlEnvironment.secrets_ciphertext.is_not(None))
            .order_by(SqlEnvironment.id)
            .with_for_update()
        )
    )
