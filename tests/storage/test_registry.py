"""Choosing a backend by URI scheme, and building the deployment's store from settings."""

from __future__ import annotations

import pytest

from mantle.errors import ConflictError, InvalidInputError
from mantle.settings import Settings
from mantle.storage import (
    BackendRegistry,
    FileObjectStore,
    StoreOptions,
    build_object_store,
    known_schemes,
    open_object_store,
    register_backend,
)
from mantle.storage.s3 import S3ObjectStore
from tests.aws import MotoServer, unique_name
from tests.storage.helpers import read


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInputError) as caught:
        open_object_store("gs://bucket/x")
    assert "file://" in caught.value.message and "s3://" in caught.value.message
    assert caught.value.details == {"known_schemes": ["file", "s3"]}
    with pytest.raises(InvalidInputError):
        open_object_store("/no/scheme")


def test_registry_dispatches_by_scheme(tmp_path) -> None:
    registry = BackendRegistry()
    opened = []

    def factory(uri: str, options: StoreOptions):
        opened.append((uri, options.public_url))
        return FileObjectStore(tmp_path / "mem")

    registry.register("mem", factory)
    store = registry.open("MEM://anything", StoreOptions(public_url="http://x"))
    assert isinstance(store, FileObjectStore)
    assert opened == [("MEM://anything", "http://x")]
    with pytest.raises(ConflictError):
        registry.register("mem", factory)
    registry.register("mem", lambda uri, options: None, replace=True)
    assert registry.schemes() == ["mem"]


def test_global_registration(tmp_path) -> None:
    scheme = unique_name("test").replace("-", "")
    register_backend(scheme, lambda uri, options: FileObjectStore(tmp_path / "custom"))
    assert scheme in known_schemes()
    assert isinstance(open_object_store(f"{scheme}://x"), FileObjectStore)


def test_build_from_default_settings(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40, public_url="https://m.example/")
    store = build_object_store(settings)
    assert isinstance(store, FileObjectStore)
    assert store.root == (tmp_path / "objects").resolve()
    assert store.presign_get("a/b").startswith("https://m.example/storage/o/a/b?op=get")


def test_build_s3_from_settings(moto_server: MotoServer, tmp_path) -> None:
    bucket = unique_name()
    moto_server.client("s3").create_bucket(Bucket=bucket)
    settings = Settings(
        data_dir=tmp_path,
        storage={
            "root": f"s3://{bucket}/deploy",
            "s3_region": "us-east-1",
            "s3_endpoint_url": moto_server.endpoint_url,
        },
    )
    store = build_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    assert store.client.meta.endpoint_url == moto_server.endpoint_url
    # Credentials come from the default chain (the fixture's fake environment).
    store.put("x.txt", b"from settings")
    assert read(store, "x.txt") == b"from settings"
    assert (
        moto_server.client("s3").get_object(Bucket=bucket, Key="deploy/x.txt")["Body"].read()
        == b"from settings"
    )
