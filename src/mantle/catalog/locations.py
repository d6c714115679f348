"""Where a dataset's files may live, and the check every file URI passes before it is stored.

Two places are allowed: the tenant's own area of the platform's object store
(`tenants/{tenant_id}/` under the store root: "stored" files), and the read buckets from
settings, whose objects are referenced in place and never copied ("referenced" files).
Keys are validated like object-store keys (no `..`, no absolute paths, no NUL or other
control characters), on the URI as written and percent-decoded, so neither spelling can
escape the allowed prefix. Any other location, including another tenant's area, is refused.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from mantle.errors import InvalidInputError, InvalidKeyError
from mantle.schemas.catalog import FileRef
from mantle.storage import ObjectStore, validate_key


def tenant_prefix(tenant_id: uuid.UUID) -> str:
    return f"tenants/{tenant_id}/"


def normalize_read_root(entry: str) -> str:
    """`bucket`, `bucket/prefix`, `s3://bucket/prefix` or `file:///dir` -> a URI ending in /."""
    entry = entry.strip()
    if not entry:
        raise InvalidInputError("a read bucket entry is empty")
    uri = entry if "://" in entry else f"s3://{entry}"
    return uri if uri.endswith("/") else uri + "/"


@dataclass(frozen=True)
class CheckedFile:
    uri: str
    key: str
    storage: str  # "stored" or "referenced"


class FileLocations:
    def __init__(self, object_store: ObjectStore, read_buckets: list[str]) -> None:
        self._store = object_store
        self._read_roots = [normalize_read_root(b) for b in read_buckets]

    @property
    def read_roots(self) -> list[str]:
        return list(self._read_roots)

    def tenant_store(self, tenant_id: uuid.UUID) -> ObjectStore:
        """The tenant's write area: put objects here, then create datasets from their URIs."""
        return self._store.scoped(tenant_prefix(tenant_id))

    def check(
        self, tenant_id: uuid.UUID, uri: str, *, extra_roots: Sequence[str] = ()
    ) -> CheckedFile:
        _check_characters(uri)
        platform_root = self._store.root_uri
        if uri.startswith(platform_root):
            return self._check_stored(tenant_id, uri)
        for root in [*self._read_roots, *(normalize_read_root(r) for r in extra_roots)]:
            if uri.startswith(root):
                key = _checked_key(uri[len(root) :])
                return CheckedFile(uri=uri, key=key, storage="referenced")
        raise InvalidInputError(
            f"file {_shown(uri)} is neither in this tenant's storage area nor in a read bucket",
            details={"uri": uri, "read_buckets": self._read_roots},
        )

    def _check_stored(self, tenant_id: uuid.UUID, uri: str) -> CheckedFile:
        store = self.tenant_store(tenant_id)
        root = store.root_uri
        if not uri.startswith(root):
            raise InvalidInputError(
                f"file {_shown(uri)} is outside this tenant's storage area", details={"uri": uri}
            )
        key = _checked_key(uri[len(root) :])
        # The store spells URIs its own way (file:// percent-encodes); keep that spelling.
        for candidate in (key, unquote(key)):
            if store.uri(candidate) == uri:
                return CheckedFile(uri=uri, key=candidate, storage="stored")
        raise InvalidInputError(f"file {_shown(uri)} is not a URI this store produces")

    def checked_files(
        self, tenant_id: uuid.UUID, files: list[FileRef], *, extra_roots: Sequence[str] = ()
    ) -> list[dict]:
        """The dataset's `files` as stored: one entry per URI, in the given order."""
        seen: set[str] = set()
        stored = []
        for ref in files:
            checked = self.check(tenant_id, ref.uri, extra_roots=extra_roots)
            if checked.uri in seen:
                raise InvalidInputError(f"file {_shown(ref.uri)} is listed twice")
            seen.add(checked.uri)
            stored.append(file_entry(checked, ref))
        return stored


def file_entry(checked: CheckedFile, ref: FileRef | None = None) -> dict:
    name = (ref.name if ref else None) or posixpath.basename(unquote(checked.key))
    _check_characters(name)
    return {
        "uri": checked.uri,
        "name": name,
        "size": ref.size if ref else None,
        "etag": ref.etag if ref else None,
        "checksum": ref.checksum if ref else None,
        "storage": checked.storage,
    }


def _checked_key(raw: str) -> str:
    """The key part of a URI, refused if it or its percent-decoded form is unsafe."""
    validate_key(raw)
    validate_key(unquote(raw))
    return raw


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _check_characters(text: str) -> None:
    if _CONTROL.search(text):
        raise InvalidKeyError(f"{_shown(text)} contains a NUL or other control character")


def _shown(uri: str) -> str:
    text = repr(uri)
    return text if len(text) <= 120 else text[:117] + "..."
