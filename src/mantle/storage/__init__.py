"""The object store: one `ObjectStore` interface, `file://` and `s3://` backends chosen by URI
scheme (`registry.py`), key validation (`keys.py`) and self-signed URLs for the file backend
(`signing.py`). Tenants get `store.scoped(f"tenants/{tenant_id}/")`."""

from mantle.storage.base import (
    DEFAULT_CONTENT_TYPE,
    MIN_PART_SIZE,
    ListPage,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    ScopedObjectStore,
)
from mantle.storage.file import FileObjectStore
from mantle.storage.keys import MAX_KEY_BYTES, validate_key, validate_prefix
from mantle.storage.registry import (
    BackendRegistry,
    StoreOptions,
    build_object_store,
    known_schemes,
    open_object_store,
    register_backend,
)
from mantle.storage.signing import SIGNED_URL_PATH, SignedGrant, UrlSigner

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "MAX_KEY_BYTES",
    "MIN_PART_SIZE",
    "SIGNED_URL_PATH",
    "BackendRegistry",
    "FileObjectStore",
    "ListPage",
    "ObjectInfo",
    "ObjectStore",
    "PartInfo",
    "ScopedObjectStore",
    "SignedGrant",
    "StoreOptions",
    "UrlSigner",
    "build_object_store",
    "known_schemes",
    "open_object_store",
    "register_backend",
    "validate_key",
    "validate_prefix",
]
