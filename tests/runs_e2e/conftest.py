"""End-to-end fixtures for runs on an AWS environment: moto serves S3, Logs and STS, the
project's Batch emulator serves Batch (its jobs run as subprocesses of this machine, with
boto3 inside pointed at moto and the emulator), and a loopback proxy is the server's public
URL so the weblog events of jobs reach the app under test.

`aws_lab` is a tenant member with an environment `prod` (write bucket, read bucket under
`raw/`), FASTQ pairs uploaded to the read bucket and registered as datasets in place, and a
`follow` that drives the monitor until a run ends."""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from mantle.runs.pipeline_port import PlatformPipelines
from tests.aws import REGION, unique_name
from tests.batch_emulator import running_emulator
from tests.batch_emulator.fixtures import moto_server  # noqa: F401 - fixture
from tests.conftest import make_settings
from tests.factories import Member
from tests.runs_monitor.test_monitor_end_to_end import FASTQ, call
from tests.runs_monitor.test_monitor_nextflow import proxy  # noqa: F401 - fixture

KEY_ID, SECRET = "AKIAMANTLETEST0KEY42", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRETzz"
ENDED = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.fixture
def batch_emulator(moto_server):  # noqa: F811
    with running_emulator(moto_server.endpoint_url, region=moto_server.region,
                          step_seconds=0.02) as emulator:  # fmt: skip
        yield emulator


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server, batch_emulator, proxy):  # noqa: F811
    host, port = proxy.server_address[:2]
    return make_settings(
        tmp_path,
        migrated_url,
        public_url=f"http://{host}:{port}",
        aws={"endpoint_url": moto_server.endpoint_url,
             "endpoint_urls": batch_emulator.endpoint_urls()},
    )  # fmt: skip


@dataclass
class AwsLab:
    api: TestClient
    member: Member
    services: object
    database: object
    s3: object
    write_bucket: str
    read_bucket: str

    def call(self, method: str, path: str, status: int = 200, **kwargs):
        return call(self.api, self.member, method, path, status, **kwargs)

    def pair(self, sample: str, suffix: str = ".fastq") -> dict:
        """Reads uploaded to the read bucket, registered as a dataset where they are."""
        props = {"sample": sample}
        data = gzip.compress(FASTQ) if suffix.endswith(".gz") else FASTQ
        for read in ("read1", "read2"):
            key = f"raw/{sample}_{read}{suffix}"
            self.s3.put_object(Bucket=self.read_bucket, Key=key, Body=data)
            props[read] = f"s3://{self.read_bucket}/{key}"
        body = {"name": sample, "data_type": "fastq_pair", "properties": props}
        return self.call("POST", "/datasets", 201, json=body)

    def follow(self, run_id: str, until=ENDED, timeout: float = 25.0) -> dict:
        """Drive the monitor (as the embedded worker would) until the run is in `until`."""
        monitor = self.services.run_monitor(self.database, worker_id="test-monitor")
        monitor.interval = timedelta(milliseconds=50)
        deadline = time.monotonic() + timeout
        while (shown := self.call("GET", f"/runs/{run_id}"))["status"] not in until:
            if time.monotonic() > deadline:
                raise AssertionError(f"run still {shown['status']}: {shown['status_reason']}")
            monitor.cycle()
            time.sleep(0.05)
        return shown

    def objects(self, prefix: str) -> set[str]:
        found = self.s3.list_objects_v2(Bucket=self.write_bucket, Prefix=prefix)
        return {o["Key"].removeprefix(prefix) for o in found.get("Contents", [])}


@pytest.fixture
def aws_lab(app, api, database, factory, moto_server, proxy, monkeypatch) -> AwsLab:  # noqa: F811
    monkeypatch.setenv("MANTLE_LAUNCHER_SYNC_SECONDS", "0.2")
    proxy.client = TestClient(app)
    services = app.state.services
    services.runs.pipelines = PlatformPipelines(services)
    member = factory.member("lab", "sci@lab.example", "owner")
    s3 = moto_server.client("s3")
    write, read = unique_name("write"), unique_name("read")
    for bucket in (write, read):
        s3.create_bucket(Bucket=bucket)
    lab = AwsLab(api, member, services, database, s3, write, read)
    lab.call("POST", "/environments", 201, json={
        "name": "prod", "region": REGION, "account_id": "123456789012",
        "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
        "write_bucket": write, "write_prefix": "mantle",
        "read_buckets": [{"bucket": read, "prefix": "raw"}],
        "head_queue": "mantle-head", "compute_queue": "mantle-compute",
        "head_image": "acme/head:1", "head_vcpus": 1, "head_memory_mib": 512,
    })  # fmt: skip
    return lab
