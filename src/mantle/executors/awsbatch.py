"""The `awsbatch` executor: the launcher runs as a head job on the environment's Batch queue.

Every AWS call goes through `_call`, which retries throttling, 5xx and dropped connections
with jittered exponential backoff and turns what is left into a `CloudError`: retryable when
waiting may help (the monitor tries again next cycle), permanent with AWS's message and the
`mantle aws doctor` hint for what a person must fix (access denied, unknown queue, refused
job definition). botocore's own retries are off for these clients so one policy applies.
Payloads are built in `batch_payload` (pure, tested without AWS)."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mantle.aws.connect import AwsConnection
from mantle.aws.errors import describe
from mantle.aws.session import AwsCredentials
from mantle.errors import CloudError
from mantle.executors.base import Executor, HeadJob, JobState, JobStatus, LogLine, LogPage
from mantle.executors.batch_errors import batch_error, definition_refused
from mantle.executors.batch_payload import (
    BatchTarget,
    head_job_request,
    job_definition_name,
    job_definition_spec,
    nextflow_config,
)

__all__ = [
    "AwsBatchExecutor",
    "BatchTarget",
    "RetryPolicy",
    "credentials_group",
    "head_job_request",
    "job_definition_name",
    "job_definition_spec",
    "nextflow_config",
]

DESCRIBE_LIMIT = 100  # ids per DescribeJobs call
GONE_REASON = "the Batch job is gone (jobs are kept 7 days)"
_TERMINATE_REASON_LIMIT = 1024
_MAX_LOG_PAGES = 10
_STATUS = {
    "SUBMITTED": JobStatus.pending,
    "PENDING": JobStatus.pending,
    "RUNNABLE": JobStatus.pending,
    "STARTING": JobStatus.pending,
    "RUNNING": JobStatus.running,
    "SUCCEEDED": JobStatus.succeeded,
    "FAILED": JobStatus.failed,
}
# Guards the executors' call counters (`calls`), which threads of one process share.
_counter_lock = threading.Lock()
# Job definitions found or registered, by (group key, region, name): registered once, reused.
_definitions: dict[tuple[str, str, str], str] = {}
_definitions_lock = threading.Lock()


def credentials_group(
    credentials: AwsCredentials, region: str, *, endpoint_url: str | None = None
) -> str:
    """The executor's `group_key` for these credentials in `region`: runs whose environments
    act as the same AWS principal in the same region are polled together. The key is a hash;
    it never carries a secret."""
    principal = [
        credentials.kind,
        credentials.access_key_id or "",
        credentials.role_arn or "",
        credentials.external_id or "",
    ]
    raw = "\n".join([*principal, region, endpoint_url or ""])
    return "awsbatch:" + hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff ("full jitter") for throttling and 5xx."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class AwsBatchExecutor(Executor):
    name = "awsbatch"

    def __init__(
        self,
        connection: AwsConnection,
        target: BatchTarget,
        *,
        group_key: str,
        retry: RetryPolicy | None = None,
        secrets: Sequence[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.target = target
        self._group_key = group_key
        self.retry = retry or RetryPolicy()
        self._secrets = tuple(secrets)  # redacted from every message
        self._sleep = sleep
        self.calls: Counter[str] = Counter()  # AWS calls made (attempts), by operation
        self._clients: dict[str, Any] = {}

    @property
    def group_key(self) -> str:
        return self._group_key

    def nextflow_config(self, *, run_id: str, tenant_id: str) -> str:
        return nextflow_config(self.target, run_id=run_id, tenant_id=tenant_id)

    # --- submit ---------------------------------------------------------------------------

    def submit(self, job: HeadJob) -> str:
        doing = f"submitting the head job to queue {self.target.head_queue}"
        definition = self.job_definition()
        try:
            answer = self._call(
                "batch", "SubmitJob", doing, **head_job_request(job, self.target, definition)
            )
        except CloudError as e:
            if not definition_refused(e):
                raise
            # Deregistered since we remembered it (someone tidied up): find or register anew.
            self._forget_definition()
            definition = self.job_definition()
            answer = self._call(
                "batch", "SubmitJob", doing, **head_job_request(job, self.target, definition)
            )
        return answer["jobId"]

    def job_definition(self) -> str:
        """The ARN of the head job definition for this target: found by name among the
        ACTIVE ones, or registered; remembered for the life of the process."""
        spec = job_definition_spec(self.target)
        name = job_definition_name(spec)
        key = self._definition_key()
        with _definitions_lock:
            if key in _definitions:
                return _definitions[key]
        arn = self._find_definition(name) or self._register_definition(name, spec)
        with _definitions_lock:
            _definitions[key] = arn
        return arn

    def _definition_key(self) -> tuple[str, str, str]:
        name = job_definition_name(job_definition_spec(self.target))
        return (self._group_key, self.target.region, name)

    def _forget_definition(self) -> None:
        with _definitions_lock:
            _definitions.pop(self._definition_key(), None)

    def _find_definition(self, name: str) -> str | None:
        doing = f"looking up job definition {name}"
        found = self._call(
            "batch", "DescribeJobDefinitions", doing, jobDefinitionName=name, status="ACTIVE"
        ).get("jobDefinitions", [])
        if not found:
            return None
        return max(found, key=lambda d: d.get("revision", 0))["jobDefinitionArn"]

    def _register_definition(self, name: str, spec: dict[str, Any]) -> str:
        doing = f"registering job definition {name} (image {self.target.head_image})"
        answer = self._call("batch", "RegisterJobDefinition", doing, jobDefinitionName=name, **spec)
        return answer["jobDefinitionArn"]

    # --- poll -----------------------------------------------------------------------------

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        wanted = list(dict.fromkeys(job_ids))
        states: dict[str, JobState] = {}
        for chunk in _chunks(wanted, DESCRIBE_LIMIT):
            for detail in self._describe(chunk):
                states[detail["jobId"]] = job_state(detail)
        for job_id in wanted:
            states.setdefault(job_id, JobState(job_id, JobStatus.failed, reason=GONE_REASON))
        return states

    def _describe(self, job_ids: list[str]) -> list[dict[str, Any]]:
        doing = f"describing {len(job_ids)} Batch jobs"
        return self._call("batch", "DescribeJobs", doing, jobs=job_ids).get("jobs", [])

    # --- cancel ---------------------------------------------------------------------------

    def cancel(self, job_id: str, *, reason: str, task_ids: Sequence[str] = ()) -> None:
        reason = (reason or "cancelled")[:_TERMINATE_REASON_LIMIT]
        for each in dict.fromkeys([job_id, *task_ids]):
            try:
                self._call(
                    "batch", "TerminateJob", f"terminating job {each}", jobId=each, reason=reason
                )
            except CloudError as e:
                # An id Batch no longer knows is as good as terminated.
                if e.details.get("aws_code") != "ClientException":
                    raise

    # --- logs -----------------------------------------------------------------------------

    def logs(self, job_id: str, cursor: str | None = None, *, limit: int = 1000) -> LogPage:
        stream = self._log_stream(job_id)
        if stream is None:
            return LogPage(lines=[], cursor=cursor)
        lines: list[LogLine] = []
        token = cursor
        for _ in range(_MAX_LOG_PAGES):
            page = self._log_page(stream, token, limit - len(lines))
            if page is None:
                break
            events, next_token = page
            lines += [_log_line(e) for e in events]
            if next_token is None or next_token == token or len(lines) >= limit:
                token = next_token or token
                break
            token = next_token
        return LogPage(lines=lines, cursor=token)

    def _log_stream(self, job_id: str) -> str | None:
        """The job's stream, asked of Batch each time: a cursor comes from the client, so it
        carries only CloudWatch's token, never a stream name (that could name another job's)."""
        found = self._describe([job_id])
        return (found[0].get("container", {}).get("logStreamName") or None) if found else None

    def _log_page(
        self, stream: str, token: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        request: dict[str, Any] = {
            "logGroupName": self.target.log_group,
            "logStreamName": stream,
            "startFromHead": True,
            "limit": max(1, min(limit, 10_000)),
        }
        if token:
            request["nextToken"] = token
        try:
            answer = self._call("logs", "GetLogEvents", f"reading log stream {stream}", **request)
        except CloudError as e:
            if e.details.get("aws_code") == "ResourceNotFoundException":
                return None  # the stream appears with the job's first line
            raise
        return answer.get("events", []), answer.get("nextForwardToken")

    # --- calls ----------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            # One retry policy: ours (botocore would multiply the attempts).
            self._clients[service] = self.connection.client(
                service, retries={"mode": "standard", "total_max_attempts": 1}
            )
        return self._clients[service]

    def _call(self, service: str, operation: str, doing: str, **request: Any) -> Any:
        method = getattr(self._client(service), _snake(operation))
        for attempt in range(self.retry.attempts):
            self._count(operation)
            try:
                return method(**request)
            except Exception as e:  # noqa: BLE001 - sorted by `describe`, re-raised below
                problem = describe(e, self._secrets)
                if not problem.retryable or attempt + 1 >= self.retry.attempts:
                    raise batch_error(problem, operation, doing) from e
                self._sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self, operation: str) -> None:
        with _counter_lock:
            self.calls[operation] += 1


def job_state(detail: dict[str, Any]) -> JobState:
    """One DescribeJobs entry as the executor's JobState."""
    status = _STATUS.get(detail.get("status", ""), JobStatus.pending)
    container = detail.get("container") or {}
    exit_code = container.get("exitCode")
    reason = ""
    if status is JobStatus.failed:
        reason = failure_reason(detail)
    return JobState(
        job_id=detail["jobId"],
        status=status,
        reason=reason,
        exit_code=exit_code,
        started_at=_time(detail.get("startedAt")),
        stopped_at=_time(detail.get("stoppedAt")),
    )


def failure_reason(detail: dict[str, Any]) -> str:
    """Batch's statusReason, the container's own reason (CannotPullContainerError...) and its
    exit code, in one line."""
    container = detail.get("container") or {}
    parts = [p for p in (detail.get("statusReason"), container.get("reason")) if p]
    parts = list(dict.fromkeys(parts))
    reason = ": ".join(parts) or "the Batch job failed"
    if container.get("exitCode") is not None:
        reason = f"{reason} (exit code {container['exitCode']})"
    return reason


def _log_line(event: dict[str, Any]) -> LogLine:
    return LogLine(timestamp=_time(event.get("timestamp")), message=event.get("message", ""))


def _time(millis: int | None) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
