"""Flash messages: what a form POST wants the next page to show, carried across its 303
redirect (POST/redirect/GET, so refreshing the page never submits the form again).

The flash rides in a short-lived cookie that the next page reads once and deletes. It can hold
a new API token (shown once), so it is encrypted and authenticated (AES-GCM under a key
derived from MANTLE_SECRET_KEY for this use only) and bound to the browser session: another
session, or a tampered cookie, reads nothing.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request, Response

from mantle.settings import Settings

FLASH_COOKIE = "mantle_flash"
MAX_AGE = 120  # seconds: long enough for the redirect, short enough to not linger
_NONCE_BYTES = 12


def _key(settings: Settings) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mantle/web", info=b"flash v1")
    return hkdf.derive(settings.secret_key.get_secret_value().encode())


def set_flash(response: Response, settings: Settings, session_secret: str, **data) -> None:
    """Attach `data` (JSON values) for the next page this browser session renders."""
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = json.dumps(data).encode()
    sealed = AESGCM(_key(settings)).encrypt(nonce, plaintext, session_secret.encode())
    response.set_cookie(
        FLASH_COOKIE,
        base64.urlsafe_b64encode(nonce + sealed).decode(),
        max_age=MAX_AGE,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )


def read_flash(request: Request, settings: Settings, session_secret: str) -> dict:
    """The flash this session was sent, or {} (none, expired, tampered, another session's)."""
    cookie = request.cookies.get(FLASH_COOKIE)
    if not cookie:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cookie.encode())
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        plaintext = AESGCM(_key(settings)).decrypt(nonce, sealed, session_secret.encode())
        data = json.loads(plaintext)
    except (ValueError, InvalidTag):
        return {}
    return data if isinstance(data, dict) else {}


def clear_flash(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/")
