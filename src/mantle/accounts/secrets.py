"""Credential material: argon2 password hashes, API token, session and invitation secrets,
CSRF tokens.

API tokens and session ids are 256-bit random values, so a SHA-256 digest is enough to store
them (a slow hash adds nothing against brute force of that space and costs every request).
Passwords are low-entropy and get argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mantle.settings import PasswordHashSettings

TOKEN_PREFIX = "mtk_"
INVITATION_PREFIX = "mti_"


class Passwords:
    """Hashes and checks passwords with argon2id at the configured cost (built once, from
    settings, by `mantle.services`)."""

    def __init__(self, settings: PasswordHashSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.time_cost,
            memory_cost=settings.memory_cost,
            parallelism=settings.parallelism,
        )
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password, and for no hash at all (an unknown email): that case
        is checked against a dummy hash, so both take the same time."""
        try:
            return self._hasher.verify(password_hash or self._dummy(), password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether a (verified) hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not-a-real-password")
        return self._dummy_hash


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_invitation_token() -> str:
    return INVITATION_PREFIX + secrets.token_urlsafe(32)


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[:12]


def csrf_token_for(session_secret: str, secret_key: str) -> str:
    """CSRF token bound to a session: HMAC of the session secret under the server key."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_secret.encode(), "sha256").hexdigest()


def csrf_matches(session_secret: str, secret_key: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token_for(session_secret, secret_key), presented)


def random_password() -> str:
    return secrets.token_urlsafe(15)
