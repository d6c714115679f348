"""Parallel transfers for the SDK and CLI: uploads in parts to presigned URLs (resumable) and
downloads in byte ranges. Bytes go straight between this machine and object storage; the
Mantle server only plans, signs and verifies."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from mantle.checksums import crc32_b64, crc32_label
from mantle.client._targets import make_parents
from mantle.errors import InvalidInputError, MantleError, ServiceUnavailableError

Progress = Callable[[int], None]  # called with the number of bytes just transferred
URL_BATCH = 500  # the API signs at most 1000 part URLs a request
RETRIES = 4
RANGE_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    name: str  # path inside the dataset, with `/`
    path: Path
    size: int


def collect_files(paths: Iterable[str | os.PathLike]) -> list[LocalFile]:
    """Files to upload: plain files by their name, directories recursively with the directory's
    own name kept as the first path segment (`reads/S1_R1.fastq.gz`)."""
    found: list[LocalFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                name = f"{path.resolve().name}/{child.relative_to(path).as_posix()}"
                found.append(LocalFile(name, child, child.stat().st_size))
        elif path.is_file():
            found.append(LocalFile(path.name, path, path.stat().st_size))
        else:
            raise InvalidInputError(f"{raw}: no such file or directory")
    if not found:
        raise InvalidInputError("nothing to upload: the directories are empty")
    return found


def file_crc32(local: LocalFile) -> str:
    """The whole file's CRC32 as dataset files record it (`crc32:<base64>`)."""
    value = 0
    with local.path.open("rb") as f:
        while chunk := f.read(RANGE_SIZE):
            value = zlib.crc32(chunk, value)
    return crc32_label(base64.b64encode(value.to_bytes(4, "big")).decode())


def _with_retries(action: Callable[[], httpx.Response], what: str) -> httpx.Response:
    delay = 0.5
    for attempt in range(RETRIES):
        try:
            response = action()
        except httpx.TransportError as e:
            if attempt == RETRIES - 1:
                raise ServiceUnavailableError(f"{what}: {e}") from e
        else:
            if response.status_code < 500 and response.status_code != 429:
                return response
            if attempt == RETRIES - 1:
                return response
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


class PartUploader:
    """Sends parts to presigned URLs. Each part's CRC32 is computed first (`checksum`) and the
    server signs its URL with it, so storage refuses bytes that changed on the way."""

    def __init__(self, http: httpx.Client, progress: Progress | None = None) -> None:
        self._http = http
        self._progress = progress or (lambda _n: None)

    @staticmethod
    def checksum(local: LocalFile, offset: int, length: int) -> str:
        return crc32_b64(_read(local, offset, length))

    def put_part(self, url: str, headers: dict, local: LocalFile, offset: int, length: int):
        for _attempt in range(RETRIES):
            data = _read(local, offset, length)
            response = _with_retries(
                lambda d=data: self._http.put(url, content=d, headers=headers), local.name
            )
            if response.status_code < 400 or _already_stored(response, headers):
                self._progress(length)
                return
            if not _bad_digest(response):
                raise MantleError(f"{local.name}: storage refused a part ({response.status_code})")
        raise MantleError(
            f"{local.name}: storage kept refusing a part's checksum; "
            "was the file changed while it was uploading?"
        )


def _read(local: LocalFile, offset: int, length: int) -> bytes:
    with local.path.open("rb") as f:
        data = os.pread(f.fileno(), length, offset)
    if len(data) != length:
        raise MantleError(f"{local.name}: the file got shorter while it was uploading")
    return data


def _already_stored(response: httpx.Response, headers: dict) -> bool:
    """A create-only single PUT (`If-None-Match: *`) refused because the object exists: an
    earlier try of this PUT was stored (its answer lost). The server's completion checks the
    stored size and CRC32, so nothing is taken on trust here."""
    return response.status_code == 412 and headers.get("If-None-Match") == "*"


def _bad_digest(response: httpx.Response) -> bool:
    """S3's BadDigest (XML) or Mantle's file store's checksum_mismatch (JSON)."""
    return response.status_code == 400 and (
        "BadDigest" in response.text or "checksum_mismatch" in response.text
    )


def download_files(
    http: httpx.Client,
    pool: ThreadPoolExecutor,
    root: Path,
    items: list[tuple[str, int, Path]],
    progress: Progress,
) -> None:
    """Fetch (url, size, target) files in parallel byte ranges, all files at once; each target
    (checked by `_targets.plan_targets`) is written whole, through a new temporary file beside
    it renamed at the end, or not at all."""
    partials: list[Path] = []
    tasks = []
    try:
        for url, size, target in items:
            make_parents(root, target)
            fd, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
            partials.append(Path(name))
            with os.fdopen(fd, "wb") as f:
                f.truncate(size)
            for start in range(0, size, RANGE_SIZE):
                end = min(start + RANGE_SIZE, size) - 1
                tasks.append(
                    pool.submit(_fetch_range, http, url, start, end, partials[-1], target, progress)
                )
        for task in tasks:
            task.result()
    except BaseException:
        for task in tasks:
            task.cancel()
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    for partial, (_url, _size, target) in zip(partials, items, strict=True):
        os.replace(partial, target)


def _fetch_range(http, url: str, start: int, end: int, partial: Path, target: Path, progress):
    headers = {"Range": f"bytes={start}-{end}"}
    response = _with_retries(lambda: http.get(url, headers=headers), target.name)
    if response.status_code not in (200, 206) or len(response.content) != end - start + 1:
        raise MantleError(f"{target.name}: download failed ({response.status_code})")
    with partial.open("r+b") as out:
        os.pwrite(out.fileno(), response.content, start)
    progress(end - start + 1)


class ResumeState:
    """Remembers an unfinished upload so that running the same command again resumes it."""

    def __init__(self, directory: Path | None, server: str, files: list[LocalFile]) -> None:
        self.path = None
        if directory is not None:
            fingerprint = hashlib.sha256(
                json.dumps(
                    [server]
                    + [
                        [f.name, str(f.path.resolve()), f.size, f.path.stat().st_mtime_ns]
                        for f in files
                    ]
                ).encode()
            ).hexdigest()[:32]
            self.path = directory / f"{fingerprint}.json"

    def load(self) -> str | None:
        if self.path is None or not self.path.exists():
            return None
        return json.loads(self.path.read_text()).get("upload_id")

    def save(self, upload_id: str) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"upload_id": upload_id}))

    def clear(self) -> None:
        if self.path is not None and self.path.exists():
            self.path.unlink()
