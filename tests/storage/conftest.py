"""Fixtures for the object-store tests. `backend` (and `store`) run a test once on each
backend: `file` in a temp folder served through the `/storage/o/` router by a TestClient, and
`s3` on a moto server with the root `s3://<unique bucket>/root/prefix`, so prefix escapes are
observable. Each `Backend` can list what its medium really holds, inside and outside the root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mantle.api.routes.storage import router
from mantle.aws.session import AwsCredentials, make_session
from mantle.storage import FileObjectStore, ObjectStore, StoreOptions, UrlSigner, open_object_store
from tests.aws import REGION, MotoServer, moto_server, unique_name  # noqa: F401

SECRET_KEY = "storage-tests-secret-key-0123456789abcdef"
PUBLIC_URL = "http://testserver"
S3_ROOT_PREFIX = "root/prefix/"
# Planted next to the root before each test; no test may change them. The siblings catch a
# root check done by string prefix ("root" vs "rootsibling").
FILE_OUTSIDE = {"outside/secret.txt", "rootsibling/secret.txt"}
S3_OUTSIDE = {"outside/secret.txt", "root/sibling/secret.txt", "root/prefixsibling/secret.txt"}


@dataclass
class Backend:
    name: str
    store: ObjectStore
    http: httpx.Client  # can fetch this backend's presigned URLs
    inside: Callable[[], set[str]]  # keys the medium holds under the store's root
    outside: Callable[[], set[str]]  # everything the medium holds anywhere else
    pending_uploads: Callable[[], list[str]]  # multipart uploads not completed or aborted
    planted_outside: set[str]  # what `outside()` must always return


def storage_app(store: ObjectStore) -> FastAPI:
    """A bare app with only the storage router: the route must stand on its own."""
    app = FastAPI()
    app.state.object_store = store
    app.include_router(router)
    return app


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def file_backend(tmp_path: Path) -> Iterator[Backend]:
    root = tmp_path / "root"
    for key in FILE_OUTSIDE:
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"not yours")
    store = FileObjectStore(root, signer=UrlSigner(SECRET_KEY, PUBLIC_URL))

    def inside() -> set[str]:
        return {k for k in _files(root) if not k.startswith(".mantle/")}

    def outside() -> set[str]:
        return {k for k in _files(tmp_path) if not k.startswith("root/")}

    def pending() -> list[str]:
        return sorted(p.name for p in (root / ".mantle" / "uploads").iterdir())

    with TestClient(storage_app(store)) as http:
        yield Backend("file", store, http, inside, outside, pending, FILE_OUTSIDE)


@pytest.fixture
def s3_backend(moto_server: MotoServer) -> Iterator[Backend]:  # noqa: F811
    s3 = moto_server.client("s3")
    bucket = unique_name()
    s3.create_bucket(Bucket=bucket)
    for key in S3_OUTSIDE:
        s3.put_object(Bucket=bucket, Key=key, Body=b"not yours")
    creds = AwsCredentials(access_key_id="testing", secret_access_key="testing")
    options = StoreOptions(
        s3_region=REGION,
        s3_endpoint_url=moto_server.endpoint_url,
        session_factory=lambda: make_session(creds, REGION),
    )
    store = open_object_store(f"s3://{bucket}/{S3_ROOT_PREFIX}", options=options)

    def all_keys() -> set[str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def inside() -> set[str]:
        return {k.removeprefix(S3_ROOT_PREFIX) for k in all_keys() if k.startswith(S3_ROOT_PREFIX)}

    def outside() -> set[str]:
        return {k for k in all_keys() if not k.startswith(S3_ROOT_PREFIX)}

    def pending() -> list[str]:
        return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    with httpx.Client() as http:
        yield Backend("s3", store, http, inside, outside, pending, S3_OUTSIDE)


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store
