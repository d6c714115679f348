"""A moto server on 127.0.0.1 for tests that talk to AWS (S3, STS, Batch, Logs, IAM...).

Use the session-scoped fixture by importing it into a conftest (or a test module):

    from tests.aws import moto_server  # noqa: F401  (pytest finds fixtures by name)

    def test_something(moto_server):
        s3 = moto_server.client("s3")            # a boto3 client pointed at the server
        s3.create_bucket(Bucket=unique_name("bucket"))

`moto_server` is a `MotoServer`: `.endpoint_url`, `.region`, `.client(service)`, `.reset()`.
While it is active the environment holds fake credentials (AWS_ACCESS_KEY_ID=testing...) and
no AWS config or profile, so nothing can reach a real account; the previous environment is
restored at the end of the session. The server is shared by the whole session, so give
buckets and other resources unique names (`unique_name`) rather than relying on `reset()`.

Without pytest: `server, endpoint_url = start_moto_server()` ... `server.stop()`, and
`with fake_aws_env(): ...` for the credentials.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
_SESSION_LOCK = threading.Lock()
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Never read the developer's ~/.aws files.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
)


def start_moto_server(host: str = "127.0.0.1") -> tuple[ThreadedMotoServer, str]:
    """Start moto on a free port of `host`; returns the server (call `.stop()`) and its URL."""
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    bound_host, port = server.get_host_and_port()
    return server, f"http://{bound_host}:{port}"


@contextmanager
def fake_aws_env() -> Iterator[None]:
    """Fake credentials and no AWS config in the environment, restored on exit."""
    with pytest.MonkeyPatch.context() as patch:
        for name in UNSET_AWS_ENV:
            patch.delenv(name, raising=False)
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        yield


def unique_name(prefix: str = "mantle-test") -> str:
    """A name no other test in the session uses (lower case: valid as a bucket name)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class MotoServer:
    server: ThreadedMotoServer | None  # None: a moto process of its own (tests/web's cors_moto)
    endpoint_url: str
    region: str = REGION

    @cached_property
    def _session(self) -> boto3.session.Session:
        # One session for every client: a new session parses botocore's JSON models again
        # (endpoints, each service's API), a tenth of a second or more per client.
        return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for `service` on this server, with the fake credentials."""
        kwargs.setdefault("region_name", self.region)
        with _SESSION_LOCK:  # a boto3 session may not make clients in two threads at once
            return self._session.client(service, endpoint_url=self.endpoint_url, **kwargs)

    def reset(self) -> None:
        """Forget every resource in every service (affects all tests sharing the server)."""
        httpx.post(f"{self.endpoint_url}/moto-api/reset").raise_for_status()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with fake_aws_env():
        server, endpoint_url = start_moto_server()
        try:
            yield MotoServer(server, endpoint_url)
        finally:
            server.stop()
