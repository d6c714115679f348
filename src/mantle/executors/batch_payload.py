"""What Mantle asks AWS Batch for, built as plain data with no I/O: the head job's definition
(named by a content hash of its spec, so one registration serves every run that needs the same
spec), the SubmitJob request of one run, and the platform's Nextflow config layer that sends
the run's tasks to the compute queue. `awsbatch.py` does the calls; tests check these shapes
without AWS."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from mantle.executors.base import HeadJob

DEFAULT_LOG_GROUP = "/aws/batch/job"
JOB_DEFINITION_PREFIX = "mantle-head-"  # within the platform policy's `mantle-*`
RUN_TAG = "mantle:run"
TENANT_TAG = "mantle:tenant"
LAUNCHER_COMMAND = ("python", "-m", "mantle.launcher")
_JOB_NAME_LIMIT = 128
_NOT_IN_JOB_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class BatchTarget:
    """Where and how an environment's head jobs run (from the environment's settings)."""

    region: str
    head_queue: str
    compute_queue: str
    head_image: str
    head_vcpus: int
    head_memory_mib: int
    log_group: str = DEFAULT_LOG_GROUP
    cli_path: str = "/miniconda/bin/aws"
    work_dir: str = ""  # s3://bucket/prefix/work: Nextflow's workDir for the tasks
    job_role_arn: str | None = None
    extra_config: str = ""  # the environment's own Nextflow config, after the platform's


def job_definition_spec(target: BatchTarget) -> dict[str, Any]:
    """RegisterJobDefinition's arguments except the name (which is derived from these)."""
    container: dict[str, Any] = {
        "image": target.head_image,
        "command": list(LAUNCHER_COMMAND),
        "resourceRequirements": [
            {"type": "VCPU", "value": str(target.head_vcpus)},
            {"type": "MEMORY", "value": str(target.head_memory_mib)},
        ],
    }
    if target.job_role_arn:
        container["jobRoleArn"] = target.job_role_arn
    if target.log_group != DEFAULT_LOG_GROUP:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-group": target.log_group},
        }
    return {
        "type": "container",
        "containerProperties": container,
        "retryStrategy": {"attempts": 1},
        "propagateTags": True,
        "platformCapabilities": ["EC2"],
    }


def job_definition_name(spec: dict[str, Any]) -> str:
    """`mantle-head-<hash>`: equal specs share one definition, a changed spec gets a new one."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return JOB_DEFINITION_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def job_name(job: HeadJob) -> str:
    """`mantle-<run id prefix>-<run name>`, in the 128 characters of [A-Za-z0-9_-] Batch
    allows, so the Batch console shows which run a job is."""
    readable = _NOT_IN_JOB_NAME.sub("-", job.name).strip("-")
    name = f"mantle-{job.run_id.hex[:8]}"
    if readable:
        name = f"{name}-{readable}"
    return name[:_JOB_NAME_LIMIT].rstrip("-")


def head_job_request(job: HeadJob, target: BatchTarget, job_definition: str) -> dict[str, Any]:
    """SubmitJob's arguments for the head job of `job` (one attempt: a head job that fails
    is a failed run, and Nextflow retries tasks itself)."""
    environment = [{"name": k, "value": str(v)} for k, v in sorted(job.environment.items())]
    return {
        "jobName": job_name(job),
        "jobQueue": target.head_queue,
        "jobDefinition": job_definition,
        "containerOverrides": {
            "command": [*LAUNCHER_COMMAND, job.run_dir_url],
            "environment": environment,
        },
        "tags": {RUN_TAG: str(job.run_id), TENANT_TAG: str(job.tenant_id)},
        "propagateTags": True,
        "retryStrategy": {"attempts": 1},
    }


def groovy_string(value: str) -> str:
    """A single-quoted Groovy string literal: no interpolation, quotes and backslashes
    escaped, so a value can never end the literal and add config of its own."""
    escaped = (
        value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f"'{escaped}'"


def nextflow_config(target: BatchTarget, *, run_id: str, tenant_id: str) -> str:
    """The platform's Nextflow config layer for a run on Batch; the environment's own config
    follows it and may refine it."""
    labels = f"[{groovy_string(RUN_TAG)}: {groovy_string(run_id)}, " + (
        f"{groovy_string(TENANT_TAG)}: {groovy_string(tenant_id)}]"
    )
    lines = [
        "// Mantle's platform layer for AWS Batch (generated for each run).",
        "process.executor = 'awsbatch'",
        f"process.queue = {groovy_string(target.compute_queue)}",
        f"process.resourceLabels = {labels}",
        f"workDir = {groovy_string(target.work_dir)}",
        f"aws.region = {groovy_string(target.region)}",
        f"aws.batch.cliPath = {groovy_string(target.cli_path)}",
    ]
    if target.extra_config.strip():
        lines += ["", "// The environment's own config.", target.extra_config.rstrip()]
    return "\n".join(lines) + "\n"
