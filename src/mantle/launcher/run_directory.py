"""Opening the run directory and the objects a run reads, from inside the job.

A `file://` run directory lives inside the platform's local object store: the launcher opens
that same store (found by walking up to the folder holding the store's `.mantle/` internals)
and scopes it to the run, so objects it writes look exactly like the platform's own. It also
knows the folder itself, so the log and the trace are appended in place. An `s3://` run
directory is opened through the storage registry with the default credential chain (the
Batch job role); `MANTLE_AWS__ENDPOINT_URL` or `AWS_ENDPOINT_URL` points it elsewhere (tests
on moto, S3-compatible stores).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mantle.errors import InvalidInputError
from mantle.storage import FileObjectStore, ObjectStore, StoreOptions, open_object_store
from mantle.storage.file import INTERNAL_DIR

ENDPOINT_VARIABLES = ("MANTLE_AWS__ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
# The folders a FileObjectStore keeps under its root's internal folder.
_STORE_MARKERS = ("meta", "tmp", "uploads")


class S3Stores:
    """The S3 stores one launcher opens (its run directory, the buckets of its inputs). They
    share one boto3 session, so the S3 service model is loaded once, not per bucket."""

    def __init__(self) -> None:
        self._session: Any = None
        self._buckets: dict[str, ObjectStore] = {}

    def options(self) -> StoreOptions:
        endpoint = next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), None)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
        return StoreOptions(
            s3_endpoint_url=endpoint, s3_region=region, session_factory=self._shared_session
        )

    def _shared_session(self) -> Any:
        if self._session is None:
            from mantle.aws.session import make_session  # boto3 only for S3 run directories

            self._session = make_session()  # the default chain: the Batch job's role
        return self._session

    def open(self, url: str) -> ObjectStore:
        return open_object_store(url, options=self.options())

    def bucket(self, name: str) -> ObjectStore:
        if name not in self._buckets:
            self._buckets[name] = self.open(f"s3://{name}")
        return self._buckets[name]


@dataclass(frozen=True)
class RunDirectory:
    url: str  # ends in "/"
    store: ObjectStore  # keys are relative to the run directory
    local: Path | None  # the folder itself, for file:// run directories
    s3: S3Stores = field(default_factory=S3Stores)

    def read_text(self, name: str) -> str:
        return self.store.read_bytes(name).decode()

    def exists(self, name: str) -> bool:
        return self.store.exists(name)

    def open_input(self, uri: str) -> Iterator[bytes]:
        """Stream the bytes of an input object at s3://bucket/key."""
        # Keys are taken verbatim: S3 keys may hold `%` or `?`, which URL parsing would mangle.
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket or not key:
            raise InvalidInputError(f"cannot download {uri!r}: expected s3://bucket/key")
        return self.s3.bucket(bucket).get(key)


def local_path(url: str) -> Path | None:
    """The local path a `file://` URL (or a plain absolute path) names; None for others."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidInputError(f"a file URL looks like file:///absolute/path, got {url!r}")
        return Path(unquote(parts.path))
    if not parts.scheme and url.startswith("/"):
        return Path(url)
    return None


def open_run_directory(url: str) -> RunDirectory:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("give the run directory's URL (file:///... or s3://bucket/...)")
    url = url if url.endswith("/") else url + "/"
    folder = local_path(url)
    if folder is None:
        s3 = S3Stores()
        return RunDirectory(url=url, store=s3.open(url), local=None, s3=s3)
    folder = folder.resolve()
    if not folder.is_dir():
        raise InvalidInputError(f"run directory {url} does not exist")
    root = _store_root(folder)
    if root is None:
        store: ObjectStore = FileObjectStore(folder)
    else:
        relative = folder.relative_to(root).as_posix()
        store = FileObjectStore(root).scoped(relative)
    return RunDirectory(url=folder.as_uri() + "/", store=store, local=folder)


def _store_root(folder: Path) -> Path | None:
    for candidate in folder.parents:
        internal = candidate / INTERNAL_DIR
        if all((internal / marker).is_dir() for marker in _STORE_MARKERS):
            return candidate
    return None


def sha256_of_chunks(chunks: Iterator[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return f"sha256:{digest.hexdigest()}", size
