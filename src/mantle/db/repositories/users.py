"""Users (global: one user may belong to several tenants)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mantle.db.models import SqlUser


def get(session: Session, user_id: uuid.UUID) -> SqlUser | None:
    return session.get(SqlUser, user_id)


def get_by_email(session: Session, email: str) -> SqlUser | None:
    return session.scalar(select(SqlUser).where(SqlUser.email == email.lower()))


def add(
    session: Session, email: str, password_hash: str, *, name: str = "", is_superuser=False
) -> SqlUser:
    user = SqlUser(
        email=email.lower(), name=name, password_hash=password_hash, is_superuser=is_superuser
    )
    session.add(user)
    session.flush()
    return user


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SqlUser)) or 0
