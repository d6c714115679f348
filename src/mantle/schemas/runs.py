"""Runs over the API: the launch request, a run as users see it, its transitions, tasks, log
pages and outputs. Bounds here keep a request within what the database (and a sane run
directory) can hold: a name of at most 200 characters, at most 50 labels, params of at most
256 KiB of JSON."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from mantle.schemas.bounds import Version

MAX_PARAMS_BYTES = 256 * 1024
MAX_LABELS = 50
MAX_INPUTS = 10_000
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:=/-]{0,99}$"
RUN_STATUSES = ("QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


class RunInputs(BaseModel):
    """Which datasets a run reads: named ones, and/or a catalog query in the CLI's short form
    (`type=fastq_pair,project=X,depth>=30`)."""

    datasets: list[str] = Field(
        default_factory=list, max_length=MAX_INPUTS, description="DS-000042 or dataset UUIDs"
    )
    query: str | None = Field(default=None, max_length=2000)
    # Samplesheet column -> dataset property (or `name`, `short_id`, `id`, `file:<name>`).
    columns: dict[str, str] = Field(default_factory=dict, max_length=100)


class LaunchRequest(BaseModel):
    pipeline: str = Field(min_length=1, max_length=100, description="The pipeline's name")
    version: Version | None = Field(default=None, description="Pipeline version; latest if none")
    environment: str | None = Field(
        default=None,
        max_length=63,
        description="An AWS environment's name or id, or `local`; default: the tenant's "
        "default environment, or local when it has none",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: RunInputs = Field(default_factory=RunInputs)
    name: str = Field(default="", max_length=200, description="Generated when empty")
    labels: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A retried request with the same key returns the same run",
    )

    @field_validator("params")
    @classmethod
    def _params_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_PARAMS_BYTES:
            raise ValueError(f"params are larger than {MAX_PARAMS_BYTES // 1024} KiB of JSON")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:

        for label in value:
            if not re.fullmatch(LABEL_PATTERN, label):
                raise ValueError(
                    f"label {label[:40]!r}: 1-100 letters, digits or _.:=/- , starting with a "
                    "letter or digit"
                )
        return list(dict.fromkeys(value))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if any(ord(c) < 32 for c in value):
            raise ValueError("no control characters in a run name")
        return value


class PreviewInput(BaseModel):
    id: str
    short_id: str
    name: str
    data_type: str
    files: list[str]


class PreviewSamplesheet(BaseModel):
    param: str = Field(description="The param that takes the samplesheet")
    columns: list[str]
    rows: list[list[str]]
    csv: str


class ParamProblem(BaseModel):
    param: str = Field(description="The param (dotted for nested ones); empty for the whole")
    rule: str
    message: str


class LaunchPreview(BaseModel):
    """A launch request checked with nothing written (`POST runs/preview`): where it would
    run, its inputs, the samplesheet that would be written, and the params with defaults
    applied; `{run_dir}/` stands for the run directory, made only at launch."""

    pipeline: str
    version: int
    engine: str
    environment: str
    executor: str
    inputs: list[PreviewInput]
    samplesheet: PreviewSamplesheet | None
    params: dict[str, Any]
    problems: list[ParamProblem] = Field(description="Empty when the launch would be accepted")


class RelaunchRequest(BaseModel):
    name: str = Field(default="", max_length=200)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    # Params changed for the new run, over the earlier run's (as `nextflow run -resume` with an
    # edited params file): fix what failed and go on from the tasks that were done.
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        return LaunchRequest._params_size(value)


class CancelRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class RunPublic(BaseModel):
    id: uuid.UUID
    short_id: str  # run-42
    number: int
    name: str
    pipeline: str
    pipeline_version: int
    engine: str
    commit: str
    environment: str  # the environment's name, or "local"
    executor: str
    status: str
    status_reason: str
    params: dict[str, Any]
    inputs: list[str]  # dataset short ids
    labels: list[str]
    run_dir: str
    work_dir: str
    external_id: str | None
    exit_code: int | None
    relaunch_of: uuid.UUID | None
    resume_of: uuid.UUID | None
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class RunPage(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None = None


class RunTransitionPublic(BaseModel):
    seq: int
    from_status: str | None
    to_status: str
    reason: str
    at: datetime


class RunTaskPublic(BaseModel):
    task_id: int
    hash: str
    native_id: str
    process: str
    tag: str
    name: str
    status: str
    exit_code: int | None
    attempt: int
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None
    realtime_ms: int | None
    cpu_percent: float | None
    peak_rss: int | None
    workdir: str


class RunTaskPage(BaseModel):
    items: list[RunTaskPublic]
    next_cursor: str | None = None


class RunLogLine(BaseModel):
    timestamp: datetime | None
    message: str


class RunLogPage(BaseModel):
    source: Literal["executor", "launcher"]
    lines: list[RunLogLine]
    cursor: str | None = Field(description="Pass back to read on; unchanged when nothing new")


class RunOutputPublic(BaseModel):
    path: str
    dataset_id: uuid.UUID | None
    short_id: str | None
    name: str | None
