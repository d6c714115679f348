"""Presigned URLs for stores that Mantle serves itself (the `file://` backend).

A URL grants one operation on one key until it expires:
`{public_url}/storage/o/{quoted key}?op=get|put|part&expires=...[&upload_id=..&part_number=..]
[&filename=..][&content_type=..][&crc32=..][&create_only=1]&sig=...`; `crc32` (base64) makes
the server refuse a body with another CRC32, `create_only` a PUT to a key that exists (412).
The signature is HMAC-SHA256, under a key derived from the server's secret key, over every
one of those values; any change or an expired time is refused with `PermissionDeniedError`
(403, as S3 answers a bad or expired presigned URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode

from pydantic import SecretStr

from mantle.errors import ConfigurationError, PermissionDeniedError

SIGNED_URL_PATH = "/storage/o/"
Operation = Literal["get", "put", "part"]
OPERATIONS: tuple[str, ...] = ("get", "put", "part")
# Bumping the label invalidates every URL signed before, without touching the secret key.
_KEY_LABEL = b"mantle/storage/signed-url/v1"


@dataclass(frozen=True)
class SignedGrant:
    """What a verified URL allows."""

    op: Operation
    key: str
    expires: int
    upload_id: str | None = None
    part_number: int | None = None
    filename: str | None = None
    content_type: str | None = None
    crc32: str | None = None
    create_only: bool = False

    def message(self) -> bytes:
        # JSON keeps the fields unambiguous: no value can pose as a separator.
        fields = [
            self.op,
            self.key,
            self.expires,
            self.upload_id,
            self.part_number,
            self.filename,
            self.content_type,
            self.crc32,
        ]
        if self.create_only:  # appended only when set: URLs signed without it stay valid
            fields.append(True)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


class UrlSigner:
    """Signs and verifies storage URLs; `clock` is injectable so tests can sign in the past."""

    def __init__(
        self,
        secret_key: SecretStr | str,
        public_url: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        secret = secret_key.get_secret_value() if isinstance(secret_key, SecretStr) else secret_key
        if not secret:
            raise ConfigurationError("signing storage URLs needs a non-empty secret key")
        if not public_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"signing storage URLs needs the server's public http(s) URL, got {public_url!r}"
            )
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
        self._public_url = public_url.rstrip("/")
        self._clock = clock

    def sign(self, grant: SignedGrant) -> str:
        digest = hmac.new(self._key, grant.message(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(
        self,
        op: Operation,
        key: str,
        *,
        expires_in: int,
        upload_id: str | None = None,
        part_number: int | None = None,
        filename: str | None = None,
        content_type: str | None = None,
        crc32: str | None = None,
        create_only: bool = False,
    ) -> str:
        grant = SignedGrant(
            op, key, int(self._clock()) + expires_in, upload_id, part_number, filename,
            content_type, crc32, create_only,
        )  # fmt: skip
        query = {
            "op": op,
            "expires": str(grant.expires),
            "upload_id": upload_id,
            "part_number": None if part_number is None else str(part_number),
            "filename": filename,
            "content_type": content_type,
            "crc32": crc32,
            "create_only": "1" if create_only else None,
            "sig": self.sign(grant),
        }
        encoded = urlencode({k: v for k, v in query.items() if v is not None})
        return f"{self._public_url}{SIGNED_URL_PATH}{quote(key, safe='/')}?{encoded}"

    def verify(self, key: str, query: Mapping[str, str]) -> SignedGrant:
        """The grant a request's path key and query parameters carry, if the signature matches
        and it has not expired; PermissionDeniedError otherwise."""
        grant = _parse_grant(key, query)
        expected = self.sign(grant)
        if not hmac.compare_digest(expected.encode(), str(query.get("sig", "")).encode()):
            raise PermissionDeniedError("the signed URL's signature does not match")
        if grant.expires < self._clock():
            raise PermissionDeniedError("the signed URL has expired; ask for a new one")
        return grant


def _parse_grant(key: str, query: Mapping[str, str]) -> SignedGrant:
    op = query.get("op")
    if op not in OPERATIONS or "sig" not in query:
        raise PermissionDeniedError("not a valid signed storage URL (missing op or sig)")
    try:
        expires = int(query.get("expires", ""))
        part = query.get("part_number")
        part_number = None if part is None else int(part)
    except ValueError as e:
        raise PermissionDeniedError("not a valid signed storage URL (bad number)") from e
    return SignedGrant(
        op,
        key,
        expires,
        query.get("upload_id"),
        part_number,
        query.get("filename"),
        query.get("content_type"),
        query.get("crc32"),
        query.get("create_only") == "1",
    )
