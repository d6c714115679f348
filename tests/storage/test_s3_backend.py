"""What only the S3 backend has: client configuration, URI parsing, error translation,
streamed multipart puts and copies in parts."""

from __future__ import annotations

import hashlib
import os

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from mantle.aws.session import AwsCredentials, make_session
from mantle.errors import InvalidInputError, InvalidKeyError, NotFoundError, StorageError
from mantle.storage import StoreOptions, open_object_store
from mantle.storage import s3 as s3_module
from mantle.storage.s3 import S3ObjectStore
from tests.aws import REGION, MotoServer, unique_name
from tests.storage.conftest import Backend
from tests.storage.helpers import read

SECRET = "VerySecretKeyThatMustNeverBeShown"


def options(moto_server: MotoServer, **extra) -> StoreOptions:
    creds = AwsCredentials(access_key_id="AKIATEST", secret_access_key=SECRET)
    return StoreOptions(
        s3_region=REGION,
        s3_endpoint_url=moto_server.endpoint_url,
        session_factory=lambda: make_session(creds, REGION),
        **extra,
    )


def test_client_configuration(s3_backend: Backend) -> None:
    config = s3_backend.store.client.meta.config
    # botocore stores `max_attempts: 10` (retries) as 11 attempts in total.
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 11}
    assert config.signature_version == "s3v4"
    assert config.s3["addressing_style"] == "path"
    assert s3_backend.store.client.meta.region_name == REGION


def test_without_endpoint_no_path_style_is_forced(moto_server: MotoServer) -> None:
    store = open_object_store("s3://some-bucket/x", options=StoreOptions(s3_region="eu-west-1"))
    config = store.client.meta.config
    assert config.signature_version == "s3v4"
    assert (config.s3 or {}).get("addressing_style") != "path"
    assert store.client.meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://my-bucket", "my-bucket", ""),
        ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket/a/b", "my-bucket", "a/b/"),
        ("s3://my-bucket/a/b/", "my-bucket", "a/b/"),
    ],
)
def test_uri_parsing(moto_server: MotoServer, uri, bucket, prefix) -> None:
    store = open_object_store(uri, options=options(moto_server))
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix) == (bucket, prefix)
    assert store.root_uri == f"s3://{bucket}/{prefix}"


@pytest.mark.parametrize("uri", ["s3://", "s3://Bad_Bucket/x", "s3://b/x?versionId=1"])
def test_bad_uris(moto_server: MotoServer, uri) -> None:
    with pytest.raises(InvalidInputError):
        open_object_store(uri, options=options(moto_server))


@pytest.mark.parametrize("uri", ["s3://bucket/../x", "s3://bucket/a//b", "s3://bucket/a/./b"])
def test_bad_root_prefixes(moto_server: MotoServer, uri) -> None:
    with pytest.raises(InvalidKeyError):
        open_object_store(uri, options=options(moto_server))


def test_store_at_the_bucket_root(moto_server: MotoServer) -> None:
    bucket = unique_name()
    moto_server.client("s3").create_bucket(Bucket=bucket)
    store = open_object_store(f"s3://{bucket}", options=options(moto_server))
    store.put("a/b.txt", b"x")
    assert store.uri("a/b.txt") == f"s3://{bucket}/a/b.txt"
    assert store.list(delimiter="/").common_prefixes == ["a/"]


def test_missing_bucket_is_a_storage_error_without_secrets(moto_server: MotoServer) -> None:
    store = open_object_store(f"s3://{unique_name('missing')}/p", options=options(moto_server))
    with pytest.raises(StorageError) as caught:
        store.put("k", b"x")
    assert "NoSuchBucket" in caught.value.message
    assert SECRET not in caught.value.message and "AKIATEST" not in caught.value.message
    assert caught.value.__cause__ is not None  # translated with `from`
    assert not caught.value.retryable  # a person must fix it: background work fails at once


def test_unreachable_endpoint_is_a_storage_error() -> None:
    client = boto3.session.Session(
        aws_access_key_id="AKIATEST", aws_secret_access_key=SECRET
    ).client(
        "s3",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = S3ObjectStore(client, "bucket", "p")
    with pytest.raises(StorageError, match="EndpointConnectionError") as caught:
        store.head("k")
    assert SECRET not in str(caught.value)
    assert caught.value.retryable  # network trouble: background work tries again later


def test_throttling_is_a_retryable_storage_error() -> None:
    client = boto3.session.Session(
        aws_access_key_id="AKIATEST", aws_secret_access_key=SECRET
    ).client("s3", region_name=REGION, config=Config(retries={"max_attempts": 1}))
    stubber = Stubber(client)
    stubber.add_client_error("head_object", "SlowDown", http_status_code=503)
    with stubber, pytest.raises(StorageError, match="SlowDown") as caught:
        S3ObjectStore(client, "bucket", "p").head("k")
    assert caught.value.retryable


def test_missing_object_and_upload_are_not_found(s3_backend: Backend) -> None:
    with pytest.raises(NotFoundError):
        s3_backend.store.get("missing")
    with pytest.raises(NotFoundError):
        s3_backend.store.list_parts("missing", "no-such-upload")


def test_failed_streamed_put_aborts_its_upload(s3_backend: Backend) -> None:
    def broken_stream():
        yield os.urandom(17 * 1024 * 1024)  # past two parts: already a multipart upload
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        s3_backend.store.put("broken.bin", broken_stream())
    assert s3_backend.pending_uploads() == []
    assert not s3_backend.store.exists("broken.bin")


def test_streamed_put_uses_parts_and_a_multipart_etag(s3_backend: Backend) -> None:
    data = os.urandom(20 * 1024 * 1024)
    chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
    info = s3_backend.store.put("parts.bin", chunks)
    part = s3_module.PART_SIZE
    digests = [hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)]
    assert info.etag == f"{hashlib.md5(b''.join(digests)).hexdigest()}-3"
    assert read(s3_backend.store, "parts.bin") == data


def test_part_size_grows_to_stay_within_ten_thousand_parts(monkeypatch) -> None:
    monkeypatch.setattr(s3_module, "PART_SIZE", 2)
    reader = s3_module._ChunkReader(iter([b"x" * (2 * 999 + 4 * 1000 + 3)]))
    sizes = [len(p) for p in s3_module._parts([b"ab"], reader)]
    assert sizes[:1000] == [2] * 1000
    assert sizes[1000:2000] == [4] * 1000
    assert sizes[2000:] == [3]


def test_large_copy_goes_in_parts(s3_backend: Backend, monkeypatch) -> None:
    monkeypatch.setattr(s3_module, "SINGLE_COPY_LIMIT", 6 * 1024 * 1024)
    monkeypatch.setattr(s3_module, "COPY_PART_SIZE", 5 * 1024 * 1024)
    data = os.urandom(11 * 1024 * 1024)
    s3_backend.store.put("src.bin", data, content_type="application/x-big")
    info = s3_backend.store.copy("src.bin", "dst.bin")
    assert info.etag.endswith("-3")
    assert info.content_type == "application/x-big"
    assert read(s3_backend.store, "dst.bin") == data
    assert s3_backend.pending_uploads() == []
