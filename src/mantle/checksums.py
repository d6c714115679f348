"""Part checksums as S3 spells them: CRC32, big-endian, base64 (`x-amz-checksum-crc32`).

Clients compute one per part before asking for its upload URL; the URL is signed with it, so
storage (S3, or Mantle's own file store) refuses a body that does not match. CRC32 rather
than MD5 because it is what S3 checks per part and composes for the whole object, and it
costs a fraction of MD5's CPU (zlib runs at several GB/s).
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator

from mantle.errors import ChecksumMismatchError, InvalidInputError

CRC32 = "crc32"
CRC32_HEADER = "x-amz-checksum-crc32"
_CRC32_B64 = re.compile(r"^[A-Za-z0-9+/]{6}==$")


def crc32_b64(data: bytes | memoryview) -> str:
    return _encode(zlib.crc32(data))


def _encode(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def check_crc32(text: str, what: str = "checksum") -> str:
    """`text` if it is a base64 CRC32 (8 characters, ending in `==`)."""
    if not isinstance(text, str) or not _CRC32_B64.fullmatch(text):
        raise InvalidInputError(f"{what}: expected a base64 CRC32 such as 'AAAAAA==', got {text!r}")
    return text


def verified_crc32(chunks: Iterator[bytes], expected: str, what: str) -> Iterator[bytes]:
    """Pass `chunks` through; after the last one, raise ChecksumMismatchError if their CRC32
    is not `expected` (the consumer then discards what it wrote, as S3 does on BadDigest)."""
    value = 0
    for chunk in chunks:
        value = zlib.crc32(chunk, value)
        yield chunk
    if _encode(value) != expected:
        raise ChecksumMismatchError(
            f"{what}: the body's CRC32 is {_encode(value)}, the URL was signed for {expected}; "
            "the data changed in transit or on disk, send it again"
        )
