"""API tokens, browser sessions, failed-login counters and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from mantle.db.dialects import upsert
from mantle.db.models import SqlApiToken, SqlBrowserSession, SqlInvitation, SqlLoginThrottle


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


def delete_other_sessions(session: Session, user_id: uuid.UUID, keep_hash: str | None) -> int:
    """End a user's browser sessions except the one whose digest is `keep_hash`."""
    query = delete(SqlBrowserSession).where(SqlBrowserSession.user_id == user_id)
    if keep_hash is not None:
        query = query.where(SqlBrowserSession.token_hash != keep_hash)
    return session.execute(query).rowcount or 0


# --- failed-login counters -----------------------------------------------------------------


def bump_failures(
    session: Session, key: str, now: datetime, window_ends_at: datetime
) -> tuple[int, datetime]:
    """Add one to a counter in one statement (so concurrent callers each see their own
    count), starting a new window when the old one is over. Returns (count, window end)."""
    table = SqlLoginThrottle.__table__
    insert = upsert(session, table).values(key=key, failures=1, window_ends_at=window_ends_at)
    expired = table.c.window_ends_at <= now
    new_window = insert.excluded.window_ends_at
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_ends_at": case((expired, new_window), else_=table.c.window_ends_at),
        },
    ).returning(table.c.failures, table.c.window_ends_at)
    failures, ends_at = session.execute(statement).one()
    return failures, ends_at


def take_back_failure(session: Session, key: str) -> None:
    session.execute(
        update(SqlLoginThrottle)
        .where(SqlLoginThrottle.key == key, SqlLoginThrottle.failures > 0)
        .values(failures=SqlLoginThrottle.failures - 1)
    )


def clear_failures(session: Session, keys: list[str]) -> None:
    session.execute(delete(SqlLoginThrottle).where(SqlLoginThrottle.key.in_(keys)))


def prune_failures(session: Session, now: datetime) -> None:
    session.execute(delete(SqlLoginThrottle).where(SqlLoginThrottle.window_ends_at <= now))


# --- invitations ---------------------------------------------------------------------------


def add_invitation(session: Session, **fields) -> SqlInvitation:
    invitation = SqlInvitation(**fields)
    session.add(invitation)
    session.flush()
    return invitation


def get_invitation(
    session: Session, tenant_id: uuid.UUID, invitation_id: uuid.UUID
) -> SqlInvitation | None:
    return session.scalar(
        select(SqlInvitation).where(
            SqlInvitation.tenant_id == tenant_id, SqlInvitation.id == invitation_id
        )
    )


def get_invitation_by_hash(session: Session, token_hash: str) -> SqlInvitation | None:
    return session.scalar(select(SqlInvitation).where(SqlInvitation.token_hash == token_hash))


def pending_invitations(
    session: Session, tenant_id: uuid.UUID, now: datetime, email: str | None = None
) -> list[SqlInvitation]:
    query = select(SqlInvitation).where(
        SqlInvitation.tenant_id == tenant_id,
        SqlInvitation.accepted_at.is_(None),
        SqlInvitation.revoked_at.is_(None),
        SqlInvitation.expires_at > now,
    )
    if email is not None:
        query = query.where(SqlInvitation.email == email)
    return list(session.scalars(query.order_by(SqlInvitation.created_at.desc())))
