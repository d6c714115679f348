"""The executor interface. Building a job (names, tags, the job definition, the platform's
Nextflow config layer) is pure code; only `submit`, `poll`, `cancel` and `logs` do I/O."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobStatus(StrEnum):
    """A head job's state as the executor sees it (Batch's seven states fold into four)."""

    pending = "pending"  # accepted, not running yet (Batch SUBMITTED/PENDING/RUNNABLE/STARTING)
    running = "running"
    succeeded = "succeeded"
    failed = "failed"  # includes terminated (cancelled) jobs; `reason` says which


@dataclass(frozen=True)
class JobState:
    job_id: str
    status: JobStatus
    reason: str = ""  # Batch's statusReason, or why a local process ended
    exit_code: int | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None


@dataclass(frozen=True)
class HeadJob:
    """What to start: the launcher on one run directory."""

    run_id: uuid.UUID
    tenant_id: uuid.UUID
    run_dir_url: str
    name: str  # the run's name, for people reading the Batch console
    environment: Mapping[str, str] = field(default_factory=dict)  # extra env vars for the job


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime | None
    message: str


@dataclass(frozen=True)
class LogPage:
    lines: list[LogLine]
    # Pass back to read on from here; unchanged when nothing new was there yet.
    cursor: str | None


class Executor(ABC):
    name: str

    @property
    @abstractmethod
    def group_key(self) -> str:
        """Runs whose executors share this key may be polled together in one batched call
        (on Batch: the same credentials and region)."""

    @abstractmethod
    def submit(self, job: HeadJob) -> str:
        """Start the head job; returns its external id (Batch job id, local job id)."""

    @abstractmethod
    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        """The states of these jobs, batched (Batch: 100 ids per DescribeJobs call). A job the
        executor no longer knows is reported failed with a reason saying so."""

    @abstractmethod
    def cancel(self, job_id: str, *, reason: str, task_ids: Sequence[str] = ()) -> None:
        """Stop the head job and these task jobs (their native ids). Idempotent: cancelling a
        finished or already cancelled job does nothing."""

    @abstractmethod
    def logs(self, job_id: str, cursor: str | None = None, *, limit: int = 1000) -> LogPage:
        """The head job's log from `cursor` on (None: from the start)."""
