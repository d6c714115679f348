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


def crc32_label(b64: str) -> str:
    """How a whole file's CRC32 is shown and stored on a dataset's file: `crc32:<base64>`."""
    return f"{CRC32}:{b64}"


def etag_label(etag: str | None) -> str | None:
    """An object's S3 ETag as a dataset file's checksum, `etag:<value>`: what a bucket
    listing tells about content. Not called md5: multipart and SSE-KMS ETags are not MD5s."""
    return f"etag:{etag}" if etag else None


def combined_crc32(parts: list[tuple[str, int]]) -> str:
    """The CRC32 (base64) of the concatenation of parts, from each part's CRC32 (base64) and
    length, without their bytes: zlib's crc32_combine. Appending n zero bytes to a CRC is a
    linear map over GF(2); its 32x32 matrix is built once per distinct part length."""
    operators: dict[int, list[int]] = {}
    value = 0
    for crc, length in parts:
        if length not in operators:
            operators[length] = _zeros_operator(length)
        value = _apply(operators[length], value) ^ int.from_bytes(base64.b64decode(crc), "big")
    return _encode(value)


def _apply(matrix: list[int], vector: int) -> int:
    result, row = 0, 0
    while vector:
        if vector & 1:
            result ^= matrix[row]
        vector >>= 1
        row += 1
    return result


def _compose(a: list[int], b: list[int]) -> list[int]:
    """The matrix of `a` after `b`."""
    return [_apply(a, column) for column in b]


def _zeros_operator(length: int) -> list[int]:
    """The map taking crc(A) to crc(A + `length` zero bytes), before the final xor."""
    result = [1 << n for n in range(32)]  # identity
    step = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):
        step = _compose(step, step)  # one zero byte
    while length:
        if length & 1:
            result = _compose(step, result)
        step = _compose(step, step)
        length >>= 1
    return result


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
