"""Authentication: who is calling. Password logins (throttled), browser sessions and API
tokens each end in a `Principal`; `policy.authorize` then decides what that principal may do."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mantle.accounts import secrets
from mantle.accounts.policy import Principal, Scope
from mantle.db.engine import Database
from mantle.db.models import SqlUser
from mantle.db.repositories import credentials as cred_repo
from mantle.db.repositories import users as user_repo
from mantle.errors import AuthenticationError, RateLimitedError
from mantle.settings import AuthSettings

# One address may try several accounts, so it gets a larger allowance than one email.
CLIENT_ALLOWANCE_FACTOR = 4
# Don't write `last_used_at` on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
WRONG_CREDENTIALS = "wrong email or password"


def check_password_login(
    session: Session, settings: AuthSettings, email: str, password: str, client: str
) -> SqlUser:
    """Verify an email and password, throttling repeated failures per email and per client.

    Use `login_with_password`, which also records failures."""
    email = email.strip().lower()
    now = datetime.now(UTC)
    _check_throttle(session, settings, email, client, now)
    user = user_repo.get_by_email(session, email)
    ok = secrets.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise AuthenticationError(WRONG_CREDENTIALS)
    cred_repo.clear_failures(session, email)
    return user


def login_with_password(
    db: Database, settings: AuthSettings, email: str, password: str, client: str
) -> SqlUser:
    """Check a password; a failure is recorded (for throttling) in a transaction of its own,
    since the checking transaction rolls back."""
    try:
        with db.session() as session:
            return check_password_login(session, settings, email, password, client)
    except AuthenticationError:
        with db.session() as session:
            record_failure(session, settings, email, client)
        raise


def record_failure(session: Session, settings: AuthSettings, email: str, client: str) -> None:
    now = datetime.now(UTC)
    cred_repo.prune_failures(session, now - timedelta(seconds=settings.login_window_seconds))
    cred_repo.add_failure(session, email.strip().lower(), client, now)


def _check_throttle(
    session: Session, settings: AuthSettings, email: str, client: str, now: datetime
) -> None:
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    by_email = cred_repo.count_failures(session, since=since, email=email)
    by_client = cred_repo.count_failures(session, since=since, client=client)
    if by_email < settings.login_max_failures and (
        by_client < settings.login_max_failures * CLIENT_ALLOWANCE_FACTOR
    ):
        return
    oldest = cred_repo.oldest_failure(session, since=since, email=email) or now
    retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
    raise RateLimitedError(
        f"too many failed logins; try again in {retry_after} seconds",
        retry_after=retry_after,
        details={"retry_after": retry_after},
    )


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
