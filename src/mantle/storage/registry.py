"""Which backend serves which URI scheme: one explicit registry, `file` and `s3` built in.

`open_object_store("s3://bucket/prefix", options=StoreOptions(...))` picks the backend by
scheme; `build_object_store(settings)` does the same from Mantle's settings. An unknown scheme
is refused with the list of the known ones. The S3 backend is imported when first opened, so
a deployment on local files never imports boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from mantle.errors import ConflictError, InvalidInputError
from mantle.storage.base import ObjectStore
from mantle.storage.file import FileObjectStore

if TYPE_CHECKING:
    from mantle.settings import Settings


@dataclass(frozen=True)
class StoreOptions:
    """What backends may need besides the URI. `signing_key` and `public_url` let the file
    backend presign URLs; the `s3_*` fields and `session_factory` (a zero-argument callable
    returning a boto3 Session, by default `make_session` on the default chain) configure S3."""

    signing_key: SecretStr | str | None = None
    public_url: str = ""
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    session_factory: Callable[[], Any] | None = None


BackendFactory = Callable[[str, StoreOptions], ObjectStore]


class BackendRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}

    def register(self, scheme: str, factory: BackendFactory, *, replace: bool = False) -> None:
        scheme = scheme.lower()
        if scheme in self._factories and not replace:
            raise ConflictError(f"an object store backend is already registered for {scheme}://")
        self._factories[scheme] = factory

    def schemes(self) -> list[str]:
        return sorted(self._factories)

    def open(self, uri: str, options: StoreOptions) -> ObjectStore:
        scheme = urlsplit(uri).scheme.lower() if isinstance(uri, str) else ""
        factory = self._factories.get(scheme)
        if factory is None:
            known = ", ".join(f"{s}://" for s in self.schemes())
            raise InvalidInputError(
                f"no object store backend for {uri!r}; known schemes: {known}",
                details={"known_schemes": self.schemes()},
            )
        return factory(uri, options)


def _open_s3(uri: str, options: StoreOptions) -> ObjectStore:
    from mantle.storage.s3 import S3ObjectStore

    return S3ObjectStore.from_uri(uri, options)


_registry = BackendRegistry()
_registry.register("file", FileObjectStore.from_uri)
_registry.register("s3", _open_s3)


def register_backend(scheme: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Make `scheme://` URIs open with `factory(uri, options)`."""
    _registry.register(scheme, factory, replace=replace)


def known_schemes() -> list[str]:
    return _registry.schemes()


def open_object_store(uri: str, *, options: StoreOptions | None = None) -> ObjectStore:
    return _registry.open(uri, options or StoreOptions())


def build_object_store(settings: Settings) -> ObjectStore:
    """The deployment's root object store, from `settings.storage` (plus the secret key and
    public URL, which sign the file backend's URLs)."""
    options = StoreOptions(
        signing_key=settings.secret_key,
        public_url=settings.public_url,
        s3_region=settings.storage.s3_region,
        s3_endpoint_url=settings.storage.s3_endpoint_url,
    )
    return open_object_store(settings.storage.root, options=options)
