"""API tokens, browser sessions and failed-login records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mantle.db.models import SqlApiToken, SqlBrowserSession, SqlLoginFailure


def get_token_by_hash(session: Session, token_hash: str) -> SqlApiToken | None:
    return session.scalar(select(SqlApiToken).where(SqlApiToken.token_hash == token_hash))


def get_token(session: Session, tenant_id: uuid.UUID, token_id: uuid.UUID) -> SqlApiToken | None:
    return session.scalar(
        select(SqlApiToken).where(SqlApiToken.tenant_id == tenant_id, SqlApiToken.id == token_id)
    )


def list_tokens(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID | None
) -> list[SqlApiToken]:
    query = select(SqlApiToken).where(SqlApiToken.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(SqlApiToken.user_id == user_id)
    return list(session.scalars(query.order_by(SqlApiToken.created_at.desc())))


def add_token(session: Session, **fields) -> SqlApiToken:
    token = SqlApiToken(**fields)
    session.add(token)
    session.flush()
    return token


def get_session_by_hash(session: Session, token_hash: str) -> SqlBrowserSession | None:
    return session.scalar(
        select(SqlBrowserSession).where(SqlBrowserSession.token_hash == token_hash)
    )


def add_session(
    session: Session, user_id: uuid.UUID, token_hash: str, expires_at: datetime
) -> SqlBrowserSession:
    row = SqlBrowserSession(user_id=user_id, token_hash=token_hash, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(SqlBrowserSession).where(SqlBrowserSession.token_hash == token_hash))


def delete_expired_sessions(session: Session, now: datetime) -> None:
    session.execute(delete(SqlBrowserSession).where(SqlBrowserSession.expires_at < now))


def count_failures(session: Session, *, since: datetime, email=None, client=None) -> int:
    query = select(func.count()).select_from(SqlLoginFailure).where(SqlLoginFailure.at >= since)
    if email is not None:
        query = query.where(SqlLoginFailure.email == email)
    if client is not None:
        query = query.where(SqlLoginFailure.client == client)
    return session.scalar(query) or 0


def oldest_failure(session: Session, *, since: datetime, email: str) -> datetime | None:
    return session.scalar(
        select(func.min(SqlLoginFailure.at)).where(
            SqlLoginFailure.email == email, SqlLoginFailure.at >= since
        )
    )


def add_failure(session: Session, email: str, client: str, at: datetime) -> None:
    session.add(SqlLoginFailure(email=email, client=client, at=at))


def clear_failures(session: Session, email: str) -> None:
    session.execute(delete(SqlLoginFailure).where(SqlLoginFailure.email == email))


def prune_failures(session: Session, before: datetime) -> None:
    session.execute(delete(SqlLoginFailure).where(SqlLoginFailure.at < before))
