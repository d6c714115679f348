"""The emulator's HTTP side: Batch's REST-JSON API on 127.0.0.1 (`POST /v1/<operation>`, JSON
bodies, errors as `x-amzn-ErrorType` + `{"message": ...}`), the way boto3 talks to AWS, and
job output written to CloudWatch Logs on a moto server."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from mantle.aws.connect import AwsConnection, connect
from mantle.aws.session import AwsCredentials
from tests.batch_emulator.batch_api import BatchApiError, BatchState, Faults
from tests.batch_emulator.jobs import ACTIVE, EmulatedJob, now_ms

REGION = "us-east-1"
DEFAULT_QUEUES = ("mantle-head", "mantle-compute")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        operation = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
        try:
            body = json.loads(raw) if raw else {}
            self._answer(200, self.server.state.handle(operation, body))
        except BatchApiError as e:
            self._answer(e.status, {"message": e.message}, error_type=e.code)
        except json.JSONDecodeError:
            self._answer(400, {"message": "body is not JSON"}, error_type="ClientException")

    def _answer(self, status: int, body: dict[str, Any], *, error_type: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(now_ms()))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: BatchState


class CloudWatchWriter:
    """Sends job output to CloudWatch Logs (moto), creating group and stream as Batch does."""

    def __init__(self, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url, self.region = endpoint_url, region
        self._client: Any = None  # made with the first line: most tests' jobs print nothing
        self._ready: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def __call__(self, job: EmulatedJob, lines: list[str]) -> None:
        if self.endpoint_url is None or not lines:
            return
        stream = job.detail["container"]["logStreamName"]
        with self._lock:
            if self._client is None:
                self._client = boto3.session.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing"
                ).client("logs", region_name=self.region, endpoint_url=self.endpoint_url)
            self._ensure(job.log_group, stream)
            stamp = now_ms()
            self._client.put_log_events(
                logGroupName=job.log_group,
                logStreamName=stream,
                logEvents=[{"timestamp": stamp, "message": line} for line in lines],
            )

    def _ensure(self, group: str, stream: str) -> None:
        if (group, stream) in self._ready:
            return
        errors = self._client.exceptions.ResourceAlreadyExistsException
        with suppress(errors):
            self._client.create_log_group(logGroupName=group)
        with suppress(errors):
            self._client.create_log_stream(logGroupName=group, logStreamName=stream)
        self._ready.add((group, stream))


class BatchEmulator:
    """A running emulator: its `endpoint_url`, the `faults` a test sets, the `calls` it
    answered by operation (lower-case: `describejobs`), and helpers to inspect jobs."""

    def __init__(self, server: _Server, logs_endpoint: str | None) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        self.logs_endpoint = logs_endpoint

    @property
    def state(self) -> BatchState:
        return self._server.state

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def calls(self):
        return self.state.calls

    @property
    def region(self) -> str:
        return self.state.region

    def add_queue(self, name: str) -> None:
        self.state.queues.add(name)

    def replace_command(self, prefix: list[str], replacement: list[str]) -> None:
        """Run `replacement` + the rest for containers whose command starts with `prefix`
        (tests run a small program instead of `python -m mantle.launcher`)."""
        self.state.command_swaps.append((list(prefix), list(replacement)))

    def seed_jobs(
        self, count: int, status: str = "RUNNING", queue: str = "mantle-head"
    ) -> list[str]:
        """Jobs that exist only to be described (benchmarks: thousands of active runs without
        thousands of processes or SubmitJob calls)."""
        ids = []
        for n in range(count):
            job_id = str(uuid.uuid4())
            detail = {
                "jobArn": self.state.arn("job", job_id),
                "jobName": f"seeded-{n}",
                "jobId": job_id,
                "jobQueue": self.state.arn("job-queue", queue),
                "status": status,
                "createdAt": now_ms(),
                "jobDefinition": self.state.arn("job-definition", "seeded:1"),
                "container": {"image": "seeded", "command": [], "environment": []},
            }
            job = EmulatedJob(detail=detail, command=[], environment={}, log_group="")
            with self.state.lock:
                self.state.jobs[job_id] = job
            ids.append(job_id)
        return ids

    def job(self, job_id: str) -> EmulatedJob:
        return self.state.jobs[job_id]

    def wait_for(self, job_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the job is in one of `statuses` (default: finished); its detail."""
        wanted = statuses or ("SUCCEEDED", "FAILED")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job.status in wanted:
                return dict(job.detail)
            time.sleep(0.02)
        raise TimeoutError(f"job {job_id} is {self.job(job_id).status}, not {wanted}")

    def connection(self, credentials: AwsCredentials | None = None) -> AwsConnection:
        """An AwsConnection sending Batch here and every other service (Logs) to moto."""
        credentials = credentials or AwsCredentials(
            access_key_id="testing", secret_access_key="testing"
        )
        return connect(
            credentials,
            self.region,
            endpoint_url=self.logs_endpoint,
            endpoints={"batch": self.endpoint_url},
        )

    def endpoint_urls(self) -> dict[str, str]:
        """For settings: `aws={"endpoint_url": moto, "endpoint_urls": emulator.endpoint_urls()}`."""
        return {"batch": self.endpoint_url}

    def stop_jobs(self) -> None:
        for job in list(self.state.jobs.values()):
            if job.status in ACTIVE and job.process is not None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(job.process.pid, signal.SIGKILL)


@contextmanager
def running_emulator(
    logs_endpoint: str | None = None,
    *,
    queues: tuple[str, ...] = DEFAULT_QUEUES,
    region: str = REGION,
    step_seconds: float = 0.05,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[BatchEmulator]:
    """Start the emulator on a free port of 127.0.0.1; job output goes to the CloudWatch Logs
    at `logs_endpoint` (moto), or nowhere when None. Every job's environment has
    AWS_ENDPOINT_URL_BATCH (this emulator) and AWS_ENDPOINT_URL (`logs_endpoint`), so boto3
    inside a job reaches the same places; `extra_env` adds to or overrides that."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = BatchState(
        region=region,
        queues=set(queues),
        step_seconds=step_seconds,
        extra_env=dict(extra_env or {}),
        post_logs=CloudWatchWriter(logs_endpoint, region),
    )
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="batch-emulator", daemon=True
    )  # a short poll interval: shutdown() returns at once
    thread.start()
    emulator = BatchEmulator(server, logs_endpoint)
    # A job's own AWS calls go where the test's do: Batch here, everything else to moto.
    job_endpoints = {"AWS_ENDPOINT_URL_BATCH": emulator.endpoint_url}
    if logs_endpoint:
        job_endpoints["AWS_ENDPOINT_URL"] = logs_endpoint
    server.state.extra_env = {**job_endpoints, **server.state.extra_env}
    try:
        yield emulator
    finally:
        emulator.stop_jobs()
        server.shutdown()
        server.server_close()
