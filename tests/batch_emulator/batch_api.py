"""The Batch operations the emulator answers, on its in-memory state: queues, job definitions
(by name and revision) and jobs. Each handler takes the request body as boto3 sends it and
returns the response body, or raises `BatchApiError` (answered as Batch answers errors).
`Faults` is what a test holds to make the next calls fail the way AWS can."""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.batch_emulator.jobs import EmulatedJob, JobRunner, container_command, now_ms

ACCOUNT = "123456789012"
DEFAULT_LOG_GROUP = "/aws/batch/job"
DESCRIBE_LIMIT = 100


class BatchApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def client_error(message: str) -> BatchApiError:
    return BatchApiError(400, "ClientException", message)


@dataclass
class Faults:
    """Failures a test asks for; counters count down as calls consume them."""

    throttle_describe_jobs: int = 0  # the next N DescribeJobs answer 429 TooManyRequests
    server_errors: int = 0  # the next N calls of any operation answer 500 ServerException
    deny_submit: bool = False  # SubmitJob answers 403 AccessDeniedException
    start_failure: str | None = None  # jobs submitted meanwhile fail in STARTING with this
    hold_jobs: bool = False  # jobs submitted meanwhile stay RUNNABLE

    def take(self, name: str) -> bool:
        left = getattr(self, name)
        if left > 0:
            setattr(self, name, left - 1)
            return True
        return False


@dataclass
class BatchState:
    region: str
    queues: set[str]
    step_seconds: float
    extra_env: dict[str, str]
    post_logs: Callable[[EmulatedJob, list[str]], None]
    faults: Faults = field(default_factory=Faults)
    calls: Counter[str] = field(default_factory=Counter)
    jobs: dict[str, EmulatedJob] = field(default_factory=dict)
    definitions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (prefix, replacement): a container command starting with prefix runs replacement instead
    command_swaps: list[tuple[list[str], list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls[operation] += 1
            if self.faults.take("server_errors"):
                raise BatchApiError(500, "ServerException", "We encountered an internal error.")
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise BatchApiError(404, "UnknownOperationException", f"not emulated: {operation}")
        return handler(body)

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:batch:{self.region}:{ACCOUNT}:{kind}/{name}"

    # --- job definitions ------------------------------------------------------------------

    def op_registerjobdefinition(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("jobDefinitionName") or ""
        if not name or body.get("type") != "container" or "containerProperties" not in body:
            raise client_error(
                "jobDefinitionName, type container and containerProperties are required"
            )
        image = body["containerProperties"].get("image")
        if not image:
            raise client_error("Container properties should contain an image")
        with self.lock:
            revisions = self.definitions.setdefault(name, [])
            revision = len(revisions) + 1
            definition = {
                **body,
                "jobDefinitionArn": self.arn("job-definition", f"{name}:{revision}"),
                "revision": revision,
                "status": "ACTIVE",
            }
            revisions.append(definition)
        return {k: definition[k] for k in ("jobDefinitionName", "jobDefinitionArn", "revision")}

    def op_describejobdefinitions(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            found = [d for revisions in self.definitions.values() for d in revisions]
        if body.get("jobDefinitionName"):
            found = [d for d in found if d["jobDefinitionName"] == body["jobDefinitionName"]]
        if body.get("status"):
            found = [d for d in found if d["status"] == body["status"]]
        if body.get("jobDefinitions"):
            found = [d for d in found if self._matches(d, body["jobDefinitions"])]
        return {"jobDefinitions": found}

    def op_deregisterjobdefinition(self, body: dict[str, Any]) -> dict[str, Any]:
        definition = self.resolve_definition(str(body.get("jobDefinition", "")))
        definition["status"] = "INACTIVE"
        return {}

    def _matches(self, definition: dict[str, Any], refs: list[str]) -> bool:
        short = f"{definition['jobDefinitionName']}:{definition['revision']}"
        return any(ref in (definition["jobDefinitionArn"], short) for ref in refs)

    def resolve_definition(self, ref: str) -> dict[str, Any]:
        name_rev = ref.split("job-definition/", 1)[-1]
        name, _, revision = name_rev.partition(":")
        with self.lock:
            revisions = [d for d in self.definitions.get(name, []) if d["status"] == "ACTIVE"]
        if revision:
            revisions = [d for d in revisions if str(d["revision"]) == revision]
        if not revisions:
            raise client_error(f"Job definition {ref} not found or not ACTIVE")
        return revisions[-1]

    # --- queues ---------------------------------------------------------------------------

    def op_describejobqueues(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = body.get("jobQueues") or sorted(self.queues)
        names = [q.rsplit("/", 1)[-1] for q in wanted]
        return {
            "jobQueues": [
                {
                    "jobQueueName": q,
                    "jobQueueArn": self.arn("job-queue", q),
                    "state": "ENABLED",
                    "status": "VALID",
                    "priority": 1,
                    "computeEnvironmentOrder": [],
                }
                for q in names
                if q in self.queues
            ]
        }

    # --- jobs -----------------------------------------------------------------------------

    def op_submitjob(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.faults.deny_submit:
            resource = self.arn("job-queue", str(body.get("jobQueue", "")))
            raise BatchApiError(
                403,
                "AccessDeniedException",
                f"User: arn:aws:sts::{ACCOUNT}:assumed-role/mantle-platform/mantle is not "
                f"authorized to perform: batch:SubmitJob on resource: {resource}",
            )
        queue = str(body.get("jobQueue", "")).rsplit("/", 1)[-1]
        if queue not in self.queues:
            raise client_error(f"JobQueue {body.get('jobQueue')} not found")
        definition = self.resolve_definition(str(body.get("jobDefinition", "")))
        job = self._new_job(body, queue, definition)
        with self.lock:
            self.jobs[job.job_id] = job
        JobRunner(job, self.step_seconds, self.post_logs).start()
        return {
            "jobArn": job.detail["jobArn"],
            "jobName": job.detail["jobName"],
            "jobId": job.job_id,
        }

    def _new_job(self, body: dict[str, Any], queue: str, definition: dict[str, Any]) -> EmulatedJob:
        job_id = str(uuid.uuid4())
        properties = definition["containerProperties"]
        overrides = body.get("containerOverrides") or {}
        command = overrides.get("command") or properties.get("command") or []
        variables = {e["name"]: e["value"] for e in properties.get("environment", [])}
        variables |= {e["name"]: e["value"] for e in overrides.get("environment", [])}
        batch_vars = {
            "AWS_BATCH_JOB_ID": job_id,
            "AWS_BATCH_JQ_NAME": queue,
            "AWS_BATCH_JOB_ATTEMPT": "1",
        }
        log_options = (properties.get("logConfiguration") or {}).get("options") or {}
        container = {
            "image": properties.get("image"),
            "command": command,
            "environment": [
                {"name": k, "value": v} for k, v in {**variables, **batch_vars}.items()
            ],
            "resourceRequirements": properties.get("resourceRequirements", []),
            "logStreamName": f"{definition['jobDefinitionName']}/default/{job_id}",
        }
        if properties.get("jobRoleArn"):
            container["jobRoleArn"] = properties["jobRoleArn"]
        tags = dict(definition.get("tags") or {}) if body.get("propagateTags") else {}
        detail = {
            "jobArn": self.arn("job", job_id),
            "jobName": body.get("jobName"),
            "jobId": job_id,
            "jobQueue": self.arn("job-queue", queue),
            "status": "SUBMITTED",
            "createdAt": now_ms(),
            "jobDefinition": definition["jobDefinitionArn"],
            "container": container,
            "tags": {**tags, **(body.get("tags") or {})},
            "propagateTags": bool(body.get("propagateTags")),
            "retryStrategy": body.get("retryStrategy")
            or definition.get("retryStrategy")
            or {"attempts": 1},
            "attempts": [],
        }
        return EmulatedJob(
            detail=detail,
            command=self._command([str(c) for c in command]),
            environment={**os.environ, **self.extra_env, **variables, **batch_vars},
            log_group=log_options.get("awslogs-group", DEFAULT_LOG_GROUP),
            start_failure=self.faults.start_failure,
            hold=self.faults.hold_jobs,
        )

    def _command(self, command: list[str]) -> list[str]:
        for prefix, replacement in self.command_swaps:
            if command[: len(prefix)] == prefix:
                return [*replacement, *command[len(prefix) :]]
        return container_command(command)

    def op_describejobs(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.faults.take("throttle_describe_jobs"):
            raise BatchApiError(429, "TooManyRequestsException", "Too Many Requests")
        ids = body.get("jobs") or []
        if len(ids) > DESCRIBE_LIMIT:
            raise client_error(f"jobs: at most {DESCRIBE_LIMIT} job ids per DescribeJobs call")
        with self.lock:
            found = [self.jobs[i] for i in ids if i in self.jobs]
        result = []
        for job in found:
            with job.lock:
                result.append({**job.detail, "container": dict(job.detail["container"])})
        return {"jobs": result}

    def op_listjobs(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = str(body.get("jobQueue", "")).rsplit("/", 1)[-1]
        status = body.get("jobStatus") or "RUNNING"
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.detail["jobQueue"].endswith(f"/{queue}")]
        summaries = [
            {k: j.detail.get(k) for k in ("jobArn", "jobId", "jobName", "createdAt", "status")}
            for j in jobs
            if j.status == status
        ]
        return {"jobSummaryList": summaries}

    def op_terminatejob(self, body: dict[str, Any]) -> dict[str, Any]:
        job_id, reason = body.get("jobId", ""), body.get("reason", "")
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise client_error(f"Job {job_id} not found")
        job.terminate(reason)
        return {}

    op_canceljob = op_terminatejob
