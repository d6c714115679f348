"""Clients for one environment: a session from the one factory (`session.make_session`), its
region, and the optional endpoint override (`MANTLE_AWS__ENDPOINT_URL`, used by tests on moto
and by S3-compatible setups) applied to every service, STS included. Per-service endpoints
(`MANTLE_AWS__ENDPOINT_URLS`, e.g. `{"batch": "http://127.0.0.1:9000"}`) win over it: tests
send Batch to the project's emulator and everything else to moto."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from mantle.aws.session import AwsCredentials, client_config, make_session

# Checks and provisioning run while a user waits: fail within a minute, not ten.
INTERACTIVE_RETRIES = {"mode": "adaptive", "max_attempts": 3}


@dataclass(frozen=True)
class AwsConnection:
    session: boto3.Session
    region: str
    endpoint_url: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict, hash=False)
    # A boto3 session may not make clients in two threads at once (the clients themselves
    # are thread-safe); a cached connection is shared by the worker's and the API's threads.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def endpoint_for(self, service: str) -> str | None:
        return self.endpoints.get(service) or self.endpoint_url

    def client(self, service: str, **config: Any) -> Any:
        options: dict[str, Any] = {"retries": INTERACTIVE_RETRIES, "connect_timeout": 10}
        options.update(config)
        if service == "s3" and self.endpoint_for(service):
            # Custom endpoints rarely serve virtual-hosted bucket names.
            options.setdefault("s3", {"addressing_style": "path"})
        with self._lock:
            return self.session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_for(service),
                config=client_config(**options),
            )


def connect(
    credentials: AwsCredentials,
    region: str,
    *,
    endpoint_url: str | None = None,
    endpoints: Mapping[str, str] | None = None,
) -> AwsConnection:
    endpoints = dict(endpoints or {})
    sts_endpoint = endpoints.get("sts") or endpoint_url
    session = make_session(credentials, region, sts_endpoint_url=sts_endpoint)
    return AwsConnection(
        session=session, region=region, endpoint_url=endpoint_url, endpoints=endpoints
    )
