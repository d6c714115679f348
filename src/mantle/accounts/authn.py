"""Authentication: who is calling. Password logins (throttled), browser sessions and API
tokens each end in a `Principal`; `policy.authorize` then decides what that principal may do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mantle.accounts import secrets, throttle
from mantle.accounts.policy import Principal, Scope
from mantle.accounts.secrets import Passwords
from mantle.db.engine import Database
from mantle.db.models import SqlUser
from mantle.db.repositories import credentials as cred_repo
from mantle.db.repositories import users as user_repo
from mantle.errors import AuthenticationError
from mantle.settings import AuthSettings

# Don't write `last_used_at` on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
WRONG_CREDENTIALS = "wrong email or password"


def login_with_password(
    db: Database,
    settings: AuthSettings,
    passwords: Passwords,
    email: str,
    password: str,
    client: str,
) -> SqlUser:
    """Check an email and password, throttled per account and per client address (see
    `accounts.throttle`). A hash made with older parameters is upgraded on the way."""
    attempt = throttle.reserve(db, settings, email, client)
    with db.session() as session:
        user = user_repo.get_by_email(session, throttle.normalize_email(email))
        ok = passwords.verify(user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active:
            raise AuthenticationError(WRONG_CREDENTIALS)
        throttle.succeeded(session, attempt)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash(password)
        return user


def change_password(
    db: Database,
    settings: AuthSettings,
    passwords: Passwords,
    user_id: uuid.UUID,
    current: str,
    new: str,
    *,
    client: str,
    keep_session: str | None,
) -> int:
    """Set a new password after checking the current one (throttled like a login), and end
    the user's other browser sessions, keeping the one whose secret is `keep_session`.
    Returns how many sessions were ended."""
    with db.session() as session:
        user = user_repo.get(session, user_id)
        if user is None:
            raise AuthenticationError("your account no longer exists")
        email = user.email
    attempt = throttle.reserve(db, settings, email, client)
    with db.session() as session:
        user = user_repo.get(session, user_id)
        if not passwords.verify(user.password_hash, current):
            raise AuthenticationError("the current password is wrong")
        throttle.succeeded(session, attempt)
        user.password_hash = passwords.hash(new)
        keep_hash = secrets.digest(keep_session) if keep_session else None
        return cred_repo.delete_other_sessions(session, user.id, keep_hash)


def principal_for_user(user: SqlUser) -> Principal:
    return Principal(user_id=user.id, email=user.email, is_superuser=user.is_superuser)


def authenticate_token(session: Session, token: str) -> Principal:
    row = cred_repo.get_token_by_hash(session, secrets.digest(token))
    now = datetime.now(UTC)
    if row is None:
        raise AuthenticationError("invalid API token")
    if row.revoked_at is not None:
        raise AuthenticationError("this API token has been revoked; create a new one")
    if row.expires_at is not None and row.expires_at <= now:
        raise AuthenticationError("this API token has expired; create a new one")
    if not row.user.is_active:
        raise AuthenticationError("this API token's user is deactivated")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(
        user_id=row.user_id,
        email=row.user.email,
        is_superuser=row.user.is_superuser,
        token_id=row.id,
        token_tenant_id=row.tenant_id,
        token_scope=Scope(row.scope),
    )


def start_session(session: Session, settings: AuthSettings, user: SqlUser) -> tuple[str, datetime]:
    """Create a browser session; returns the secret for the cookie and its expiry."""
    now = datetime.now(UTC)
    cred_repo.delete_expired_sessions(session, now)
    secret = secrets.new_session_secret()
    expires_at = now + timedelta(hours=settings.session_hours)
    cred_repo.add_session(session, user.id, secrets.digest(secret), expires_at)
    return secret, expires_at


def authenticate_session(session: Session, secret: str) -> Principal:
    row = cred_repo.get_session_by_hash(session, secrets.digest(secret))
    if row is None or row.expires_at <= datetime.now(UTC) or not row.user.is_active:
        raise AuthenticationError("your session has ended; log in again")
    return principal_for_user(row.user)


def end_session(session: Session, secret: str) -> None:
    cred_repo.delete_session(session, secrets.digest(secret))
