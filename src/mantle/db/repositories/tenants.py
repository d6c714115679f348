"""Tenants and their memberships."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mantle.db.models import SqlMembership, SqlTenant, SqlUser


def get_by_slug(session: Session, slug: str) -> SqlTenant | None:
    return session.scalar(select(SqlTenant).where(SqlTenant.slug == slug))


def get_with_role(session: Session, slug: str, user_id: uuid.UUID) -> tuple[SqlTenant, str] | None:
    row = session.execute(
        select(SqlTenant, SqlMembership.role)
        .join(SqlMembership, SqlMembership.tenant_id == SqlTenant.id)
        .where(SqlTenant.slug == slug, SqlMembership.user_id == user_id)
    ).first()
    return (row[0], row[1]) if row else None


def add(session: Session, slug: str, name: str) -> SqlTenant:
    tenant = SqlTenant(slug=slug, name=name)
    session.add(tenant)
    session.flush()
    return tenant


def list_for_user(session: Session, user_id: uuid.UUID) -> list[tuple[SqlTenant, str]]:
    rows = session.execute(
        select(SqlTenant, SqlMembership.role)
        .join(SqlMembership, SqlMembership.tenant_id == SqlTenant.id)
        .where(SqlMembership.user_id == user_id)
        .order_by(SqlTenant.slug)
    )
    return [(tenant, role) for tenant, role in rows]


def get_membership(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> SqlMembership | None:
    return session.get(SqlMembership, (tenant_id, user_id))


def list_members(session: Session, tenant_id: uuid.UUID) -> list[SqlMembership]:
    return list(
        session.scalars(
            select(SqlMembership)
            .join(SqlUser, SqlUser.id == SqlMembership.user_id)
            .where(SqlMembership.tenant_id == tenant_id)
            .order_by(SqlUser.email)
        )
    )


def add_member(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> SqlMembership:
    membership = SqlMembership(tenant_id=tenant_id, user_id=user_id, role=role)
    session.add(membership)
    session.flush()
    return membership


def count_role(session: Session, tenant_id: uuid.UUID, role: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SqlMembership)
            .where(SqlMembership.tenant_id == tenant_id, SqlMembership.role == role)
        )
        or 0
    )


def get_member_by_email(session: Session, tenant_id: uuid.UUID, email: str) -> SqlMembership | None:
    return session.scalar(
        select(SqlMembership)
        .join(SqlUser, SqlUser.id == SqlMembership.user_id)
        .where(SqlMembership.tenant_id == tenant_id, SqlUser.email == email.lower())
    )
