"""The job queue: enqueue (now or after a time), claim under a lease, heartbeat with progress,
then finish, retry later, or release; cancel.

A claim is safe with any number of workers on either database: on PostgreSQL the candidate
row is locked with `FOR UPDATE SKIP LOCKED` (workers never wait on each other's rows), and on
both the UPDATE re-checks that the job is still claimable, so at most one claim wins.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from mantle.db.engine import Database
from mantle.db.models import SqlJob
from mantle.errors import ConflictError, NotFoundError


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED = (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


def enqueue(
    session: Session,
    tenant_id: uuid.UUID,
    kind: str,
    payload: dict[str, Any],
    *,
    created_by: uuid.UUID | None = None,
    run_after: datetime | None = None,
) -> SqlJob:
    """Queue a job; no worker takes it before `run_after` (default: at once)."""
    job = SqlJob(
        tenant_id=tenant_id,
        kind=kind,
        status=JobStatus.queued,
        payload=payload,
        progress={},
        checkpoint={},
        created_by=created_by,
        run_after=run_after or datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> SqlJob | None:
    return session.scalar(select(SqlJob).where(SqlJob.tenant_id == tenant_id, SqlJob.id == job_id))


def _claimable(now: datetime):
    return or_(
        (SqlJob.status == JobStatus.queued) & (SqlJob.run_after <= now),
        (SqlJob.status == JobStatus.running) & (SqlJob.lease_expires_at < now),
    )


def claim(
    db: Database,
    worker_id: str,
    kinds: list[str],
    lease: timedelta,
    *,
    now: datetime | None = None,
) -> SqlJob | None:
    """Take the job that has waited longest: queued and due, or running with an expired lease
    (its worker died). Its `attempts` count this attempt."""
    for _attempt in range(5):
        at = now or datetime.now(UTC)
        with db.session() as session:
            # SKIP LOCKED: another worker is claiming that row; take the next. (SQLite has no
            # row locks and ignores the clause; there the conditional UPDATE decides.)
            candidate = session.scalar(
                select(SqlJob.id)
                .where(SqlJob.kind.in_(kinds), _claimable(at))
                .order_by(SqlJob.run_after)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if candidate is None:
                return None
            won = session.execute(
                update(SqlJob)
                .where(SqlJob.id == candidate, _claimable(at))
                .values(
                    status=JobStatus.running,
                    lease_owner=worker_id,
                    lease_expires_at=at + lease,
                    attempts=SqlJob.attempts + 1,
                    started_at=at,
                )
            ).rowcount
            if won:
                return session.get(SqlJob, candidate, populate_existing=True)
    return None


def heartbeat(
    db: Database,
    job_id: uuid.UUID,
    worker_id: str,
    lease: timedelta,
    *,
    progress: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> bool:
    """Extend the lease and save progress; False when the lease was lost or the job was
    cancelled, in which case the worker must stop."""
    values: dict[str, Any] = {"lease_expires_at": datetime.now(UTC) + lease}
    if progress is not None:
        values["progress"] = progress
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    return _update_own(db, job_id, worker_id, values)


def _update_own(db: Database, job_id: uuid.UUID, worker_id: str, values: dict[str, Any]) -> bool:
    """Change a job this worker holds; False when it no longer does (cancelled, taken over)."""
    with db.session() as session:
        return bool(
            session.execute(
                update(SqlJob)
                .where(
                    SqlJob.id == job_id,
                    SqlJob.lease_owner == worker_id,
                    SqlJob.status == JobStatus.running,
                )
                .values(**values)
            ).rowcount
        )


def finish(
    db: Database,
    job_id: uuid.UUID,
    worker_id: str,
    status: JobStatus,
    *,
    error: str | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "error": error,
        "finished_at": datetime.now(UTC),
        "lease_expires_at": None,
    }
    if progress is not None:
        values["progress"] = progress
    _update_own(db, job_id, worker_id, values)


def retry_later(
    db: Database, job_id: uuid.UUID, worker_id: str, *, delay: timedelta, error: str
) -> None:
    """Put the job back in the queue after a transient failure; `error` stays visible until
    the next attempt settles it. Progress and checkpoint are kept: the next attempt resumes."""
    _update_own(db, job_id, worker_id, {
        "status": JobStatus.queued, "error": error, "run_after": datetime.now(UTC) + delay,
        "lease_owner": None, "lease_expires_at": None,
    })  # fmt: skip


def release(db: Database, job_id: uuid.UUID, worker_id: str) -> None:
    """Hand the job back at once, without counting the attempt (the worker is shutting down)."""
    _update_own(db, job_id, worker_id, {
        "status": JobStatus.queued, "run_after": datetime.now(UTC), "lease_owner": None,
        "lease_expires_at": None, "attempts": SqlJob.attempts - 1,
    })  # fmt: skip


def cancel(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> SqlJob:
    job = get(session, tenant_id, job_id)
    if job is None:
        raise NotFoundError("job not found")
    if job.status in FINISHED:
        raise ConflictError(f"the job has already {job.status}")
    job.status = JobStatus.cancelled
    job.finished_at = datetime.now(UTC)
    return job


def recent(session: Session, tenant_id: uuid.UUID, kind: str, limit: int = 50) -> list[SqlJob]:
    return list(
        session.scalars(
            select(SqlJob)
            .where(SqlJob.tenant_id == tenant_id, SqlJob.kind == kind)
            .order_by(SqlJob.created_at.desc())
            .limit(limit)
        )
    )
