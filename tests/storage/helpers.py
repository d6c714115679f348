"""Helpers shared by the storage tests."""

from __future__ import annotations

import hashlib

from mantle.errors import InvalidKeyError
from mantle.storage import ObjectStore


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def read(store: ObjectStore, key: str, **kwargs) -> bytes:
    return b"".join(store.get(key, **kwargs))


def attempt_everything(store: ObjectStore, key: str) -> list[str]:
    """Try every keyed operation with `key`; return the names of those that were NOT refused
    with InvalidKeyError."""
    attempts = {
        "put": lambda: store.put(key, b"pwned"),
        "get": lambda: store.get(key),
        "head": lambda: store.head(key),
        "exists": lambda: store.exists(key),
        "delete": lambda: store.delete(key),
        "copy_from": lambda: store.copy(key, "safe"),
        "copy_to": lambda: store.copy("safe", key),
        "uri": lambda: store.uri(key),
        "presign_get": lambda: store.presign_get(key),
        "presign_put": lambda: store.presign_put(key),
        "create_multipart": lambda: store.create_multipart(key),
        "presign_part": lambda: store.presign_part(key, "upload", 1),
        "upload_part": lambda: store.upload_part(key, "upload", 1, b"pwned"),
        "list_parts": lambda: store.list_parts(key, "upload"),
        "complete": lambda: store.complete_multipart(key, "upload", [(1, "abc")]),
        "abort": lambda: store.abort_multipart(key, "upload"),
    }
    not_refused = []
    for name, attempt in attempts.items():
        try:
            attempt()
        except InvalidKeyError:
            continue
        not_refused.append(name)
    return not_refused
