"""The `file://` backend: objects are files under a root folder (the embedded deployment).

Layout under the root: an object `a/b.txt` is the file `a/b.txt`; everything else lives in
the hidden `.mantle/` folder, whose name is reserved as a first key segment:
`.mantle/meta/` holds one small JSON per object (ETag, content type), `.mantle/uploads/` the
parts of multipart uploads, `.mantle/tmp/` files being written. Writes go to a temp file that
is renamed into place, so readers see the old object or the new one, never half of one.
Presigned URLs point at Mantle's own `/storage/o/` route and are signed by `UrlSigner`.
Folders the store makes are 0700 and its files 0600 (`mantle.private_files`): the team's data
is not for other accounts on the machine.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from mantle.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    InvalidKeyError,
    MantleError,
    NotFoundError,
    PreconditionFailedError,
    StorageError,
)
from mantle.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_private_dir
from mantle.storage.base import (
    CHUNK_SIZE,
    MIN_PART_SIZE,
    ListPage,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    multipart_etag,
)
from mantle.storage.keys import validate_key
from mantle.storage.signing import UrlSigner

if TYPE_CHECKING:
    from mantle.storage.registry import StoreOptions

INTERNAL_DIR = ".mantle"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_FILE = re.compile(r"(\d{5})\.([0-9a-f]{32})")
_COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class _Staged:
    """A fully written temp file, ready to be renamed into place."""

    path: Path
    size: int
    md5: str
    inode: int


@dataclass(frozen=True)
class _StoredPart:
    path: Path
    etag: str
    size: int


@contextmanager
def _os_errors(action: str, key: str) -> Iterator[None]:
    """Translate the OS errors no caller handles into Mantle's tree."""
    try:
        yield
    except MantleError:
        raise
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise InvalidKeyError(f"a segment of {key!r} is too long for the file system") from e
        raise StorageError(f"file store could not {action} {key!r}: {e.strerror or e}") from e


class FileObjectStore(ObjectStore):
    def __init__(self, root: str | Path, *, signer: UrlSigner | None = None) -> None:
        with _os_errors("create the root folder", str(root)):
            make_private_dir(root)
            self._root = Path(root).resolve(strict=True)
            self._internal = self._root / INTERNAL_DIR
            for folder in ("meta", "uploads", "tmp"):
                make_private_dir(self._internal / folder)
        self._signer = signer

    @classmethod
    def from_uri(cls, uri: str, options: StoreOptions) -> FileObjectStore:
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise InvalidInputError(
                f"a file store URI looks like file:///absolute/path, got {uri!r}"
            )
        signer = None
        if options.signing_key is not None and options.public_url:
            signer = UrlSigner(options.signing_key, options.public_url)
        return cls(unquote(parts.path), signer=signer)

    def __repr__(self) -> str:
        return f"FileObjectStore({str(self._root)!r})"

    @property
    def root(self) -> Path:
        return self._root

    @property
    def signer(self) -> UrlSigner | None:
        """Verifies the URLs this store signed (used by the `/storage/o/` route)."""
        return self._signer

    @property
    def root_uri(self) -> str:
        return self._root.as_uri() + "/"

    def _uri(self, key: str) -> str:
        return self._object_path(key).as_uri()

    # -- paths -----------------------------------------------------------------------------

    def _object_path(self, key: str) -> Path:
        segments = key.split("/")
        if segments[0] == INTERNAL_DIR:
            raise InvalidKeyError(f"keys under '{INTERNAL_DIR}/' are reserved by the file store")
        path = self._root.joinpath(*segments)
        self._ensure_inside(path, key)
        return path

    def _ensure_inside(self, path: Path | str, key: str) -> None:
        # realpath follows every symlink that exists, so a linked folder pointing elsewhere
        # is caught before anything is created through it.
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self._root) or real.is_relative_to(self._internal):
            raise InvalidKeyError(f"object key {key!r} resolves outside the store's root")

    def _meta_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._internal / "meta" / digest[:2] / f"{digest}.json"

    # -- reading ---------------------------------------------------------------------------

    def _stat_object(self, path: Path, key: str) -> os.stat_result:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError) as e:
            raise NotFoundError(f"object {key!r} does not exist") from e
        if not stat.S_ISREG(st.st_mode):
            raise NotFoundError(f"object {key!r} does not exist")
        return st

    def _info(self, key: str, path: Path, st: os.stat_result, *, with_type: bool) -> ObjectInfo:
        etag, content_type = self._read_meta(key, st) or (_md5_of_file(path), None)
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return ObjectInfo(key, st.st_size, etag, modified, content_type if with_type else None)

    def _read_meta(self, key: str, st: os.stat_result) -> tuple[str, str | None] | None:
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (OSError, ValueError):
            return None
        # The inode ties the metadata to one version of the file: a file replaced outside
        # Mantle (or mid-write) falls back to hashing.
        if meta.get("inode") != st.st_ino or meta.get("size") != st.st_size:
            return None
        return meta["etag"], meta.get("content_type")

    def _head(self, key: str) -> ObjectInfo:
        path = self._object_path(key)
        with _os_errors("read", key):
            return self._info(key, path, self._stat_object(path, key), with_type=True)

    def _get(self, key: str, byte_range: tuple[int, int | None] | None) -> Iterator[bytes]:
        path = self._object_path(key)
        with _os_errors("read", key):
            self._stat_object(path, key)
            handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below
        size = os.fstat(handle.fileno()).st_size
        start, end = 0, size - 1
        if byte_range is not None:
            start, wanted_end = byte_range
            if start >= size:
                handle.close()
                raise InvalidInputError(
                    f"range start {start} is beyond the end of {key!r} ({size} bytes)"
                )
            end = size - 1 if wanted_end is None else min(wanted_end, size - 1)
        return _read_span(handle, start, end - start + 1)

    def _list(self, prefix: str, delimiter: str | None, cursor: str | None, limit: int) -> ListPage:
        after = _decode_cursor(cursor) if cursor else None
        entries, more = _paginate(self._keys(prefix), prefix, delimiter, after, limit)
        objects, prefixes = [], []
        for entry, is_prefix in entries:
            if is_prefix:
                prefixes.append(entry)
            elif info := self._listed_info(entry):
                objects.append(info)
        next_cursor = _encode_cursor(entries[-1][0]) if more else None
        return ListPage(objects=objects, common_prefixes=prefixes, next_cursor=next_cursor)

    def _listed_info(self, key: str) -> ObjectInfo | None:
        path = self._root.joinpath(*key.split("/"))
        try:
            return self._info(key, path, self._stat_object(path, key), with_type=False)
        except (NotFoundError, OSError):
            return None  # deleted since the folder was walked

    def _keys(self, prefix: str) -> list[str]:
        """Every object key starting with `prefix`, sorted (code points = UTF-8 byte order)."""
        folder, _, partial = prefix.rpartition("/")
        if folder.split("/")[0] == INTERNAL_DIR:
            raise InvalidKeyError(f"keys under '{INTERNAL_DIR}/' are reserved by the file store")
        start = self._root.joinpath(*folder.split("/")) if folder else self._root
        base = f"{folder}/" if folder else ""
        if folder:
            self._ensure_inside(start, prefix)
        if not start.is_dir():
            return []
        with _os_errors("list", prefix):
            found = [k for k in self._walk(start, base, partial) if _is_valid_key(k)]
        return sorted(found)

    def _walk(self, folder: Path | str, base: str, partial: str = "") -> Iterator[str]:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(partial):
                    continue
                if base == "" and entry.name == INTERNAL_DIR:
                    continue
                key = base + entry.name
                # Linked folders are not followed: they could loop or leave the root.
                if entry.is_dir(follow_symlinks=False):
                    yield from self._walk(entry.path, key + "/")
                elif entry.is_file(follow_symlinks=False) or self._is_linked_file_inside(entry):
                    yield key

    def _is_linked_file_inside(self, entry: os.DirEntry) -> bool:
        if not entry.is_symlink():
            return False
        real = Path(os.path.realpath(entry.path))
        return real.is_relative_to(self._root) and real.is_file()

    # -- writing ---------------------------------------------------------------------------

    def _put(self, key: str, chunks: Iterator[bytes], content_type: str | None) -> ObjectInfo:
        path = self._object_path(key)
        staged = self._stage(chunks, key)
        return self._commit(key, path, staged, staged.md5, content_type)

    def put_new(
        self, key: str, chunks: Iterator[bytes], *, content_type: str | None = None
    ) -> ObjectInfo:
        """`put`, unless `key` exists: then PreconditionFailedError (412), decided atomically
        (a hard link cannot replace a file). Serves create-only signed PUTs, as S3 serves
        `If-None-Match: *`."""
        key = validate_key(key)
        path = self._object_path(key)
        staged = self._stage(chunks, key)
        return self._commit(key, path, staged, staged.md5, content_type, create_only=True)

    def _stage(self, chunks: Iterator[bytes], key: str) -> _Staged:
        """Write `chunks` to a temp file under the root (same file system, so the final rename
        is atomic), hashing as it goes."""
        with _os_errors("write", key):
            fd, name = _private_temp_file(self._internal / "tmp", prefix="put-")
        try:
            with os.fdopen(fd, "wb") as handle:
                digest, size = hashlib.md5(), 0
                # Only the writes are translated: an error raised by the caller's stream
                # is theirs and passes through unchanged.
                for chunk in chunks:
                    with _os_errors("write", key):
                        handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                with _os_errors("write", key):
                    handle.flush()
                    os.fsync(handle.fileno())
                    inode = os.fstat(handle.fileno()).st_ino
        except BaseException:
            _remove(name)
            raise
        return _Staged(Path(name), size, digest.hexdigest(), inode)

    def _commit(
        self,
        key: str,
        path: Path,
        staged: _Staged,
        etag: str,
        content_type: str | None,
        *,
        create_only: bool = False,
    ) -> ObjectInfo:
        meta = {
            "key": key,
            "etag": etag,
            "content_type": content_type,
            "size": staged.size,
            "inode": staged.inode,
        }
        try:
            with _os_errors("write", key):
                self._rename_into_place(staged.path, path, key, create_only)
                _write_json_atomically(self._meta_path(key), meta, self._internal / "tmp")
                modified = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        except BaseException:
            _remove(staged.path)
            raise
        return ObjectInfo(key, staged.size, etag, modified, content_type)

    def _rename_into_place(self, source: Path, path: Path, key: str, create_only: bool) -> None:
        # A concurrent delete may prune the freshly made parent folder; make it again.
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                make_private_dir(path.parent)
                self._ensure_inside(path.parent, key)
                if create_only:
                    os.link(source, path)  # fails if `path` exists, unlike a rename
                    _remove(source)
                else:
                    os.replace(source, path)
                return
            except FileNotFoundError:
                if attempt == _COMMIT_ATTEMPTS - 1:
                    raise
            except FileExistsError as e:
                if create_only and not path.is_dir():
                    raise PreconditionFailedError(
                        f"{key!r} exists; this URL may only create it"
                    ) from e
                raise _file_and_folder(key) from e
            except (NotADirectoryError, IsADirectoryError) as e:
                raise _file_and_folder(key) from e

    def _delete(self, key: str) -> None:
        path = self._object_path(key)
        with _os_errors("delete", key):
            # Already gone, or a folder rather than an object: either way, nothing to do.
            with suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                path.unlink()
            _remove(self._meta_path(key))
            self._prune_empty_folders(path.parent)

    def _prune_empty_folders(self, folder: Path) -> None:
        while folder != self._root and folder.is_relative_to(self._root):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or already gone): nothing more to prune
            folder = folder.parent

    # -- presigned URLs --------------------------------------------------------------------

    def _require_signer(self) -> UrlSigner:
        if self._signer is None:
            raise ConfigurationError(
                "this file store has no signing key and public URL, so it cannot presign URLs"
            )
        return self._signer

    def _presign_get(self, key: str, expires_in: int, filename: str | None) -> str:
        self._object_path(key)
        return self._require_signer().url("get", key, expires_in=expires_in, filename=filename)

    def _presign_put(
        self, key: str, expires_in: int, content_type: str | None, crc32, create_only: bool
    ) -> str:
        self._object_path(key)
        return self._require_signer().url(
            "put", key, expires_in=expires_in, content_type=content_type, crc32=crc32,
            create_only=create_only,
        )  # fmt: skip

    def _presign_part(self, key: str, upload_id: str, part_number: int, expires_in: int, crc32):
        self._object_path(key)
        return self._require_signer().url(
            "part", key, expires_in=expires_in, upload_id=upload_id, part_number=part_number,
            crc32=crc32,
        )  # fmt: skip

    # -- multipart uploads -----------------------------------------------------------------

    def _upload_folder(self, key: str, upload_id: str) -> tuple[Path, dict]:
        """The folder of an upload started for exactly this key; NotFoundError otherwise, so
        an upload id can never be used to write to another key (or another tenant)."""
        self._object_path(key)  # a key that could never be written fails as such
        missing = NotFoundError(f"no multipart upload {upload_id!r} for {key!r}")
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise missing
        folder = self._internal / "uploads" / upload_id
        try:
            manifest = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError) as e:
            raise missing from e
        if manifest.get("key") != key:
            raise missing
        return folder, manifest

    def _create_multipart(self, key: str, content_type: str | None, checksum: str | None) -> str:
        # `checksum` needs nothing here: the server checks each part against the CRC32 its
        # signed URL carries (api/routes/storage.py); the store itself keeps MD5 ETags.
        self._object_path(key)
        upload_id = secrets.token_hex(16)
        folder = self._internal / "uploads" / upload_id
        with _os_errors("start an upload for", key):
            os.mkdir(folder, PRIVATE_DIR_MODE)
            os.chmod(folder, PRIVATE_DIR_MODE)
            manifest = {
                "key": key,
                "content_type": content_type,
                "initiated": datetime.now(UTC).isoformat(),
            }
            _write_json_atomically(folder / "upload.json", manifest, self._internal / "tmp")
        return upload_id

    def _upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterator[bytes]
    ) -> str:
        folder, _ = self._upload_folder(key, upload_id)
        staged = self._stage(chunks, key)
        target = folder / f"{part_number:05d}.{staged.md5}"
        try:
            with _os_errors("store a part of", key):
                os.replace(staged.path, target)
        except StorageError as e:
            _remove(staged.path)
            if not folder.exists():
                raise NotFoundError(f"multipart upload {upload_id!r} was aborted") from e
            raise
        # A re-uploaded part replaces the earlier one, as on S3.
        for number, part in self._stored_parts(folder, keep_all=True):
            if number == part_number and part.path != target:
                _remove(part.path)
        return staged.md5

    def _stored_parts(
        self, folder: Path, *, keep_all: bool = False
    ) -> list[tuple[int, _StoredPart]]:
        found: list[tuple[int, _StoredPart, float]] = []
        with os.scandir(folder) as entries:
            for entry in entries:
                if match := _PART_FILE.fullmatch(entry.name):
                    st = entry.stat()
                    part = _StoredPart(Path(entry.path), match.group(2), st.st_size)
                    found.append((int(match.group(1)), part, st.st_mtime))
        found.sort(key=lambda item: (item[0], item[2]))
        if keep_all:
            return [(number, part) for number, part, _ in found]
        latest = {number: part for number, part, _ in found}  # newest wins
        return sorted(latest.items())

    def _list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        folder, _ = self._upload_folder(key, upload_id)
        with _os_errors("list the parts of", key):
            parts = self._stored_parts(folder)
        return [PartInfo(number, part.size, part.etag) for number, part in parts]

    def _complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]], crc32: dict[int, str]
    ) -> ObjectInfo:
        folder, manifest = self._upload_folder(key, upload_id)
        path = self._object_path(key)
        with _os_errors("complete an upload for", key):
            stored = dict(self._stored_parts(folder))
        chosen = _check_completion(parts, stored)
        staged = self._stage(_concatenate(chosen), key)
        info = self._commit(
            key, path, staged, multipart_etag(e for _, e in parts), manifest.get("content_type")
        )
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def _abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            folder, _ = self._upload_folder(key, upload_id)
        except NotFoundError:
            return
        shutil.rmtree(folder, ignore_errors=True)


def _check_completion(
    parts: list[tuple[int, str]], stored: dict[int, _StoredPart]
) -> list[_StoredPart]:
    """The stored parts named by `parts`, after S3's checks: each was uploaded with that
    ETag, and every part but the last is at least `MIN_PART_SIZE`."""
    chosen = []
    for index, (number, etag) in enumerate(parts):
        part = stored.get(number)
        if part is None or part.etag != etag:
            raise InvalidInputError(
                f"part {number} was not uploaded with ETag {etag!r}",
                details={"part_number": number},
            )
        if index < len(parts) - 1 and part.size < MIN_PART_SIZE:
            raise InvalidInputError(
                f"part {number} is {part.size} bytes; every part but the last must be at "
                f"least {MIN_PART_SIZE} bytes",
                details={"part_number": number},
            )
        chosen.append(part)
    return chosen


def _concatenate(parts: list[_StoredPart]) -> Iterator[bytes]:
    for part in parts:
        with open(part.path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk


def _read_span(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        while length > 0 and (chunk := handle.read(min(CHUNK_SIZE, length))):
            length -= len(chunk)
            yield chunk


def _paginate(
    keys: list[str], prefix: str, delimiter: str | None, after: str | None, limit: int
) -> tuple[list[tuple[str, bool]], bool]:
    """S3's ListObjectsV2 over sorted keys: entries are keys or common prefixes (folded at
    the first delimiter after `prefix`), each counting once toward `limit`; `after` is the
    last entry of the previous page. Returns the entries and whether more remain."""
    entries: list[tuple[str, bool]] = []
    for key in keys:
        entry, is_prefix = key, False
        if delimiter and (at := key.find(delimiter, len(prefix))) >= 0:
            entry, is_prefix = key[: at + len(delimiter)], True
        if (after is not None and entry <= after) or (entries and entries[-1][0] == entry):
            continue
        if len(entries) == limit:
            return entries, True
        entries.append((entry, is_prefix))
    return entries, False


def _encode_cursor(entry: str) -> str:
    return base64.urlsafe_b64encode(entry.encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeError) as e:
        raise InvalidInputError("cursor is not one this store returned") from e


def _is_valid_key(key: str) -> bool:
    # Files made outside Mantle may have names no key can address (control characters,
    # bytes that are not UTF-8); listing them would hand out keys that every call refuses.
    try:
        validate_key(key)
    except InvalidKeyError:
        return False
    return True


def _md5_of_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json_atomically(path: Path, payload: dict, tmp_folder: Path) -> None:
    make_private_dir(path.parent)
    fd, name = _private_temp_file(tmp_folder, prefix="meta-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
        os.replace(name, path)
    except BaseException:
        _remove(name)
        raise


def _private_temp_file(folder: Path, prefix: str) -> tuple[int, str]:
    """mkstemp's 0600 file, made exact whatever the umask; renamed into place, it stays so."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix)
    os.fchmod(fd, PRIVATE_FILE_MODE)
    return fd, name


def _file_and_folder(key: str) -> ConflictError:
    return ConflictError(
        f"cannot store {key!r}: the file store cannot hold both an object and "
        "a folder of objects at the same path (e.g. 'a' and 'a/b')"
    )


def _remove(path: Path | str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)
