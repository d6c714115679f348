"""Credential material: argon2 password hashes, API token and session secrets, CSRF tokens.

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

TOKEN_PREFIX = "mtk_"
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


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
