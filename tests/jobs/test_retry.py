"""Which failures a job retries: AWS throttling, 5xx and network errors, a database that
blinked; everything else fails the job at once with a message a user can act on."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from sqlalchemy.exc import OperationalError

from mantle.catalog import imports
from mantle.catalog.read_buckets import ReadBucket
from mantle.errors import (
    CloudError,
    ConflictError,
    InvalidInputError,
    ServiceUnavailableError,
    StorageError,
)
from mantle.jobs.retry import INTERNAL_ERROR, as_mantle_error
from mantle.settings import Settings


def client_error(code: str, status: int) -> ClientError:
    body = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(body, "ListObjectsV2")


@pytest.mark.parametrize(
    "error, retryable",
    [
        (client_error("ThrottlingException", 400), True),
        (client_error("SlowDown", 503), True),
        (client_error("InternalError", 500), True),
        (EndpointConnectionError(endpoint_url="https://s3.example"), True),
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
        (ServiceUnavailableError("the database is unavailable"), True),
        (CloudError("AWS failed: throttled", retryable=True), True),
        (client_error("AccessDenied", 403), False),
        (client_error("ExpiredToken", 400), False),
        (InvalidInputError("bad pattern"), False),
        (ConflictError("exists"), False),
        (StorageError("S3 refused"), False),
        (KeyError("boom"), False),
    ],
)
def test_errors_are_sorted_into_retryable_and_permanent(error, retryable):
    assert as_mantle_error(error, "test.echo").retryable is retryable


def test_aws_errors_say_what_failed_and_unexpected_ones_hide_their_text():
    denied = as_mantle_error(client_error("AccessDenied", 403), "catalog.import")
    assert denied.message == "AWS failed while running the catalog.import job: AccessDenied: m"
    assert as_mantle_error(KeyError("secret=abc"), "x").message == INTERNAL_ERROR


def test_a_throttled_listing_makes_the_import_retry():
    bucket = ReadBucket(bucket="raw", prefix="", client=None)
    assert imports._listing_failed(bucket, client_error("SlowDown", 503)).retryable
    assert not imports._listing_failed(bucket, client_error("InvalidBucketState", 409)).retryable


def test_worker_threads_come_from_settings(monkeypatch, tmp_path):
    assert Settings(data_dir=tmp_path).worker.threads == 2
    monkeypatch.setenv("MANTLE_WORKER__THREADS", "4")
    assert Settings(data_dir=tmp_path).worker.threads == 4
