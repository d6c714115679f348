"""The `ObjectStore` interface, its value types, and the scoped (tenant) view.

Backends implement the `_underscored` methods and receive keys that are already validated;
the public methods here validate every key, prefix, range and part list first, so no backend
can forget to. `ScopedObjectStore` confines a store under a sub-prefix by delegating to the
parent's public methods, so keys are validated again against the full path.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import BinaryIO
from urllib.parse import quote

from mantle.checksums import CRC32, check_crc32
from mantle.errors import InvalidInputError, NotFoundError
from mantle.storage.keys import (
    MAX_KEY_BYTES,
    validate_delimiter,
    validate_key,
    validate_prefix,
    validate_scope,
)

CHUNK_SIZE = 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
MAX_PUT_SIZE = 5 * 1024**3  # S3's largest single PUT, and its largest part
MAX_PART_NUMBER = 10_000
MAX_LIST_LIMIT = 1000
MAX_EXPIRES_IN = 7 * 24 * 3600  # SigV4's longest presigned URL; the file backend matches it
DEFAULT_CONTENT_TYPE = "application/octet-stream"

Data = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str  # hex, without quotes; multipart objects end in `-N` like S3
    last_modified: datetime
    content_type: str | None = None  # None in listings: S3 does not return it there


@dataclass(frozen=True)
class PartInfo:
    part_number: int
    size: int
    etag: str
    crc32: str | None = None  # base64, when the upload checks CRC32 and storage reports it


@dataclass(frozen=True)
class ListPage:
    objects: list[ObjectInfo] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    next_cursor: str | None = None  # pass back as `cursor=` to get the next page


def iter_chunks(data: Data, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Turn bytes, a binary file object or an iterable of bytes into a stream of chunks."""
    if isinstance(data, str):
        raise InvalidInputError("object data must be bytes, not str; encode it first")
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data):
            yield bytes(data)
        return
    if hasattr(data, "read"):
        while chunk := data.read(chunk_size):
            if isinstance(chunk, str):
                raise InvalidInputError("object data must be opened in binary mode")
            yield chunk
        return
    for chunk in data:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidInputError(f"object data chunks must be bytes, not {type(chunk).__name__}")
        if len(chunk):
            yield bytes(chunk)


def normalize_etag(etag: str) -> str:
    """ETags travel quoted in HTTP headers; Mantle keeps them bare."""
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def multipart_etag(part_etags: Iterable[str]) -> str:
    """S3's ETag for a multipart object: md5 of the parts' binary md5s, then `-<count>`."""
    digests = [bytes.fromhex(normalize_etag(etag)) for etag in part_etags]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition that downloads as `filename` (RFC 6266, with a UTF-8 form)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _check_content_type(content_type: object) -> str:
    if content_type is None:
        return DEFAULT_CONTENT_TYPE
    # It is sent back as a response header: no line breaks or other control characters.
    if (
        not isinstance(content_type, str)
        or not content_type
        or len(content_type) > 255
        or not content_type.isascii()
        or not content_type.isprintable()
    ):
        raise InvalidInputError("content type must be printable ASCII, at most 255 characters")
    return content_type


def _check_filename(filename: object) -> str | None:
    if filename is None:
        return None
    if (
        not isinstance(filename, str)
        or not filename
        or len(filename) > 255
        or not filename.isprintable()
    ):
        raise InvalidInputError("download filename must be printable, at most 255 characters")
    return filename


def _check_range(byte_range: object) -> tuple[int, int | None] | None:
    if byte_range is None:
        return None
    if not isinstance(byte_range, tuple) or len(byte_range) != 2:
        raise InvalidInputError("byte_range must be a (start, end) tuple; end may be None")
    start, end = byte_range
    if not _is_int(start) or start < 0:
        raise InvalidInputError("byte_range start must be an integer >= 0")
    if end is not None and (not _is_int(end) or end < start):
        raise InvalidInputError("byte_range end must be None or an integer >= start")
    return start, end


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_part_number(part_number: object) -> int:
    if not _is_int(part_number) or not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidInputError(f"part number must be an integer from 1 to {MAX_PART_NUMBER}")
    return part_number


def _check_upload_id(upload_id: object) -> str:
    if not isinstance(upload_id, str) or not upload_id or not upload_id.isprintable():
        raise InvalidInputError("upload id must be a non-empty printable string")
    return upload_id


def _check_crc32(crc32: str | None) -> str | None:
    return None if crc32 is None else check_crc32(crc32, "crc32")


def _check_parts(parts: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    checked: list[tuple[int, str]] = []
    for item in parts:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise InvalidInputError("parts must be (part_number, etag) pairs")
        number, etag = _check_part_number(item[0]), item[1]
        if checked and number <= checked[-1][0]:
            raise InvalidInputError("parts must be listed in strictly ascending part-number order")
        if not isinstance(etag, str) or not normalize_etag(etag):
            raise InvalidInputError(f"part {number} needs the ETag its upload returned")
        checked.append((number, normalize_etag(etag)))
    if not checked:
        raise InvalidInputError("a multipart upload needs at least one part to complete")
    return checked


def _check_expires(expires_in: object) -> int:
    if not _is_int(expires_in) or not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise InvalidInputError(f"expires_in must be 1 to {MAX_EXPIRES_IN} seconds")
    return expires_in


def _check_limit(limit: object) -> int:
    if not _is_int(limit) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_LIST_LIMIT}")
    return limit


class ObjectStore(ABC):
    """A flat namespace of objects addressed by validated keys (see `keys.py`)."""

    # -- reading ---------------------------------------------------------------------------

    def get(self, key: str, *, byte_range: tuple[int, int | None] | None = None) -> Iterator[bytes]:
        """Stream an object's bytes; `byte_range` is inclusive like HTTP's `Range`, an end past
        the object is clamped, a start past it raises InvalidInputError. A missing object
        raises NotFoundError here, before the first chunk is read."""
        return self._get(validate_key(key), _check_range(byte_range))

    def read_bytes(self, key: str) -> bytes:
        """The whole object in memory; only for objects known to be small."""
        return b"".join(self.get(key))

    def head(self, key: str) -> ObjectInfo:
        return self._head(validate_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except NotFoundError:
            return False
        return True

    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        cursor: str | None = None,
        limit: int = MAX_LIST_LIMIT,
    ) -> ListPage:
        """One page of keys starting with `prefix`, in lexicographic (UTF-8 byte) order. With
        a delimiter, keys sharing the next `prefix...delimiter` are folded into one common
        prefix; objects and common prefixes both count toward `limit`."""
        if cursor is not None and (not isinstance(cursor, str) or not cursor):
            raise InvalidInputError("cursor must be a non-empty string from a previous page")
        return self._list(
            validate_prefix(prefix), validate_delimiter(delimiter), cursor, _check_limit(limit)
        )

    def uri(self, key: str) -> str:
        """The object's full address: `file:///...` or `s3://bucket/prefix/key`."""
        return self._uri(validate_key(key))

    @property
    @abstractmethod
    def root_uri(self) -> str:
        """The address of this store's root, ending in `/`."""

    @property
    def max_key_bytes(self) -> int:
        """The longest key (UTF-8 bytes) this store can hold: S3's limit, less any prefix the
        store puts in front of every key."""
        return MAX_KEY_BYTES

    # -- writing ---------------------------------------------------------------------------

    def put(self, key: str, data: Data, *, content_type: str | None = None) -> ObjectInfo:
        """Store an object, streaming `data` (bytes, a binary file object or an iterable of
        bytes chunks); replaces any object at `key`. The content type defaults to
        `application/octet-stream` on every backend."""
        return self._put(validate_key(key), iter_chunks(data), _check_content_type(content_type))

    def delete(self, key: str) -> None:
        """Remove an object; deleting a missing object is not an error."""
        self._delete(validate_key(key))

    def copy(self, src_key: str, dst_key: str) -> ObjectInfo:
        """Copy an object (with its content type) to another key of the same store."""
        return self._copy(validate_key(src_key), validate_key(dst_key))

    # -- presigned URLs --------------------------------------------------------------------

    def presign_get(self, key: str, *, expires_in: int = 3600, filename: str | None = None) -> str:
        """A URL anyone can GET (with `Range` support) until it expires; with `filename`, the
        response downloads under that name."""
        return self._presign_get(
            validate_key(key), _check_expires(expires_in), _check_filename(filename)
        )

    def presign_put(
        self,
        key: str,
        *,
        expires_in: int = 3600,
        content_type: str | None = None,
        crc32: str | None = None,
        create_only: bool = False,
    ) -> str:
        """A URL to PUT a whole object; with `content_type`, the upload must send that
        Content-Type header; with `crc32` (base64), storage refuses a body with another CRC32;
        with `create_only`, storage refuses (412) to replace an object that exists (S3's
        `If-None-Match: *`, signed into the URL, so the client must send it)."""
        checked_type = None if content_type is None else _check_content_type(content_type)
        return self._presign_put(
            validate_key(key),
            _check_expires(expires_in),
            checked_type,
            _check_crc32(crc32),
            create_only,
        )

    # -- multipart uploads -----------------------------------------------------------------

    def create_multipart(
        self, key: str, *, content_type: str | None = None, checksum: str | None = None
    ) -> str:
        """Start a multipart upload; returns its upload id. With `checksum="crc32"` every part
        must come through a URL presigned with its CRC32 (S3's `ChecksumAlgorithm=CRC32`):
        storage checks each part, and completing needs no pass over the whole object."""
        if checksum not in (None, CRC32):
            raise InvalidInputError(f"checksum must be {CRC32!r} or None, not {checksum!r}")
        return self._create_multipart(
            validate_key(key), _check_content_type(content_type), checksum
        )

    def presign_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        expires_in: int = 3600,
        crc32: str | None = None,
    ) -> str:
        """A URL to PUT one part; with `crc32` (base64), storage refuses a body with another
        CRC32. The response's ETag header names the part."""
        return self._presign_part(
            validate_key(key),
            _check_upload_id(upload_id),
            _check_part_number(part_number),
            _check_expires(expires_in),
            _check_crc32(crc32),
        )

    def upload_part(self, key: str, upload_id: str, part_number: int, data: Data) -> str:
        """Upload one part from this process; returns its ETag."""
        return self._upload_part(
            validate_key(key),
            _check_upload_id(upload_id),
            _check_part_number(part_number),
            iter_chunks(data),
        )

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        return self._list_parts(validate_key(key), _check_upload_id(upload_id))

    def complete_multipart(
        self,
        key: str,
        upload_id: str,
        parts: Iterable[tuple[int, str]],
        *,
        crc32: Mapping[int, str] | None = None,
    ) -> ObjectInfo:
        """Assemble the object from `parts` as (part_number, etag), in ascending order. Every
        part but the last must be at least 5 MiB (S3's rule, enforced on every backend).
        `crc32`: each part's CRC32, for uploads started with `checksum="crc32"`."""
        checked = {n: _check_crc32(c) for n, c in (crc32 or {}).items()}
        return self._complete_multipart(
            validate_key(key), _check_upload_id(upload_id), _check_parts(parts), checked
        )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard an upload and its parts; aborting an unknown upload is not an error."""
        self._abort_multipart(validate_key(key), _check_upload_id(upload_id))

    # -- views -----------------------------------------------------------------------------

    def scoped(self, prefix: str) -> ObjectStore:
        """A view of the keys under `prefix` (a folder: `/` is appended if missing). Keys of
        the view are relative to it, and no key can reach outside it."""
        return ScopedObjectStore(self, validate_scope(prefix))

    # -- what a backend implements ---------------------------------------------------------

    @abstractmethod
    def _get(self, key: str, byte_range: tuple[int, int | None] | None) -> Iterator[bytes]: ...

    @abstractmethod
    def _head(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def _list(
        self, prefix: str, delimiter: str | None, cursor: str | None, limit: int
    ) -> ListPage: ...

    @abstractmethod
    def _uri(self, key: str) -> str: ...

    @abstractmethod
    def _put(self, key: str, chunks: Iterator[bytes], content_type: str | None) -> ObjectInfo: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    def _copy(self, src_key: str, dst_key: str) -> ObjectInfo:
        # Streams through this process; backends with a server-side copy override it.
        source = self._head(src_key)
        return self._put(dst_key, self._get(src_key, None), source.content_type)

    @abstractmethod
    def _presign_get(self, key: str, expires_in: int, filename: str | None) -> str: ...

    @abstractmethod
    def _presign_put(
        self,
        key: str,
        expires_in: int,
        content_type: str | None,
        crc32: str | None,
        create_only: bool,
    ) -> str: ...

    @abstractmethod
    def _create_multipart(
        self, key: str, content_type: str | None, checksum: str | None
    ) -> str: ...

    @abstractmethod
    def _presign_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, crc32: str | None
    ) -> str: ...

    @abstractmethod
    def _upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterator[bytes]
    ) -> str: ...

    @abstractmethod
    def _list_parts(self, key: str, upload_id: str) -> list[PartInfo]: ...

    @abstractmethod
    def _complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]], crc32: dict[int, str]
    ) -> ObjectInfo: ...

    @abstractmethod
    def _abort_multipart(self, key: str, upload_id: str) -> None: ...


class ScopedObjectStore(ObjectStore):
    """A view of `parent` confined under `prefix` (which ends in `/`).

    Every call goes through the parent's public methods with `prefix + key`; since a valid
    relative key has no `..` and the prefix is a whole folder, the result stays inside it.
    """

    def __init__(self, parent: ObjectStore, prefix: str) -> None:
        self._parent = parent
        self._prefix = validate_scope(prefix)

    def __repr__(self) -> str:
        return f"ScopedObjectStore({self.root_uri!r})"

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def root_uri(self) -> str:
        return self._parent.root_uri + self._prefix

    @property
    def max_key_bytes(self) -> int:
        return self._parent.max_key_bytes - len(self._prefix.encode())

    def scoped(self, prefix: str) -> ObjectStore:
        return ScopedObjectStore(self._parent, self._prefix + validate_scope(prefix))

    def _full(self, key: str) -> str:
        return self._prefix + key

    def _relative(self, info: ObjectInfo) -> ObjectInfo:
        return replace(info, key=info.key.removeprefix(self._prefix))

    def _get(self, key: str, byte_range: tuple[int, int | None] | None) -> Iterator[bytes]:
        return self._parent.get(self._full(key), byte_range=byte_range)

    def _head(self, key: str) -> ObjectInfo:
        return self._relative(self._parent.head(self._full(key)))

    def _list(self, prefix: str, delimiter: str | None, cursor: str | None, limit: int) -> ListPage:
        page = self._parent.list(
            self._full(prefix), delimiter=delimiter, cursor=cursor, limit=limit
        )
        return ListPage(
            objects=[self._relative(info) for info in page.objects],
            common_prefixes=[p.removeprefix(self._prefix) for p in page.common_prefixes],
            next_cursor=page.next_cursor,
        )

    def _uri(self, key: str) -> str:
        return self._parent.uri(self._full(key))

    def _put(self, key: str, chunks: Iterator[bytes], content_type: str | None) -> ObjectInfo:
        return self._relative(self._parent.put(self._full(key), chunks, content_type=content_type))

    def _delete(self, key: str) -> None:
        self._parent.delete(self._full(key))

    def _copy(self, src_key: str, dst_key: str) -> ObjectInfo:
        return self._relative(self._parent.copy(self._full(src_key), self._full(dst_key)))

    def _presign_get(self, key: str, expires_in: int, filename: str | None) -> str:
        return self._parent.presign_get(self._full(key), expires_in=expires_in, filename=filename)

    def _presign_put(
        self, key: str, expires_in: int, content_type: str | None, crc32, create_only: bool
    ) -> str:
        return self._parent.presign_put(
            self._full(key),
            expires_in=expires_in,
            content_type=content_type,
            crc32=crc32,
            create_only=create_only,
        )

    def _create_multipart(self, key: str, content_type: str | None, checksum: str | None) -> str:
        return self._parent.create_multipart(
            self._full(key), content_type=content_type, checksum=checksum
        )

    def _presign_part(self, key: str, upload_id: str, part_number: int, expires_in: int, crc32):
        return self._parent.presign_part(
            self._full(key), upload_id, part_number, expires_in=expires_in, crc32=crc32
        )

    def _upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterator[bytes]
    ) -> str:
        return self._parent.upload_part(self._full(key), upload_id, part_number, chunks)

    def _list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        return self._parent.list_parts(self._full(key), upload_id)

    def _complete_multipart(self, key: str, upload_id: str, parts, crc32) -> ObjectInfo:
        completed = self._parent.complete_multipart(self._full(key), upload_id, parts, crc32=crc32)
        return self._relative(completed)

    def _abort_multipart(self, key: str, upload_id: str) -> None:
        self._parent.abort_multipart(self._full(key), upload_id)
