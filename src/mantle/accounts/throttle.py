"""Login throttling: wrong passwords are counted per (account, client address) pair, per
address and per account, each in a fixed window (`MANTLE_AUTH__LOGIN_*`).

An attempt takes its slot in all three counters *before* the password is checked, in a
transaction of its own, so concurrent attempts cannot all slip under a limit. A wrong password
leaves the slot taken (it is the failure record); a right one gives it back. An attempt refused
for one full counter takes no slot in the others, so an address that keeps guessing locks only
itself; an account guessed at from many addresses is locked for everyone until its window ends.
Keys are digests: the table holds no emails or addresses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mantle.accounts import secrets
from mantle.db.engine import Database
from mantle.db.repositories import credentials as cred_repo
from mantle.errors import RateLimitedError
from mantle.settings import AuthSettings


@dataclass(frozen=True)
class Attempt:
    """The counter slots one password check holds."""

    pair_key: str
    client_key: str
    account_key: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def reserve(db: Database, settings: AuthSettings, email: str, client: str) -> Attempt:
    """Take a slot for one password check, or raise `RateLimitedError` (429, Retry-After)."""
    email = normalize_email(email)
    attempt = Attempt(
        pair_key=_key("pair", f"{email}\n{client}"),
        client_key=_key("client", client),
        account_key=_key("account", email),
    )
    limits = (
        (attempt.pair_key, settings.login_max_failures),
        (attempt.client_key, settings.login_client_max_failures),
        (attempt.account_key, settings.login_account_max_failures),
    )
    now = datetime.now(UTC)
    window_ends_at = now + timedelta(seconds=settings.login_window_seconds)
    with db.session() as session:  # a refusal rolls back the slots taken before it
        for key, limit in limits:
            failures, ends_at = cred_repo.bump_failures(session, key, now, window_ends_at)
            if failures > limit:
                raise _throttled(ends_at, now)
    with db.session() as session:
        cred_repo.prune_failures(session, now - timedelta(seconds=settings.login_window_seconds))
    return attempt


def succeeded(session: Session, attempt: Attempt) -> None:
    """The password was right: forget the account's failures, give back the address's slot
    (a right password must not wipe what an address did to other accounts)."""
    cred_repo.clear_failures(session, [attempt.pair_key, attempt.account_key])
    cred_repo.take_back_failure(session, attempt.client_key)


def _throttled(window_ends_at: datetime, now: datetime) -> RateLimitedError:
    retry_after = max(1, math.ceil((window_ends_at - now).total_seconds()))
    return RateLimitedError(
        f"too many failed logins; try again in {retry_after} seconds",
        retry_after=retry_after,
        details={"retry_after": retry_after},
    )


def _key(kind: str, value: str) -> str:
    return secrets.digest(f"{kind}:{value}")
