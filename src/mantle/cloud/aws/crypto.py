"""Encryption at rest for environment secrets: AES-256-GCM under a key derived from
`MANTLE_SECRET_KEY` with HKDF-SHA256.

A ciphertext reads `v1.<key id>.<base64(nonce + sealed)>`. The key id names the key that made
it, so a server can say which key a value needs, and `mantle aws reencrypt` can move every
value to a new key. The associated data binds a ciphertext to its row: pasted into another
row (another tenant's), it no longer decrypts.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mantle.errors import ConfigurationError

VERSION = "v1"
_SALT = b"mantle/secrets"
_INFO = b"mantle aws environment secrets v1"
_NONCE_BYTES = 12


def derive_key(secret_key: str) -> bytes:
    """The 256-bit AES key for `secret_key` (the server's MANTLE_SECRET_KEY)."""
    if not secret_key:
        raise ConfigurationError("MANTLE_SECRET_KEY is empty: cannot encrypt secrets")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return hkdf.derive(secret_key.encode())


def key_id(key: bytes) -> str:
    """A short public fingerprint of a derived key (never the key itself)."""
    return hashlib.sha256(b"mantle key id:" + key).hexdigest()[:12]


class SecretBox:
    """Encrypts with the current key; decrypts with the current key or any older one given."""

    def __init__(self, secret_key: str, *older_secret_keys: str) -> None:
        self._current = derive_key(secret_key)
        keys = [self._current, *(derive_key(k) for k in older_secret_keys)]
        self._by_id = {key_id(k): k for k in keys}

    @property
    def key_id(self) -> str:
        return key_id(self._current)

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id!r})"

    def encrypt(self, plaintext: bytes, aad: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._current).encrypt(nonce, plaintext, aad)
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}.{self.key_id}.{body}"

    def decrypt(self, token: str, aad: bytes) -> bytes:
        kid, body = _split(token)
        key = self._by_id.get(kid)
        if key is None:
            raise ConfigurationError(
                f"a stored secret is encrypted under another server key (key id {kid}); "
                "if MANTLE_SECRET_KEY was changed, run `mantle aws reencrypt` with the old key"
            )
        raw = base64.urlsafe_b64decode(body)
        try:
            return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
        except InvalidTag as e:
            raise ConfigurationError(
                "a stored secret does not decrypt: it was altered or copied from another record"
            ) from e


def key_id_of(token: str) -> str:
    return _split(token)[0]


def _split(token: str) -> tuple[str, str]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise ConfigurationError("a stored secret has an unknown format")
    return parts[1], parts[2]
