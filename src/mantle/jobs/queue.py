"""The job queue: enqueue, claim under a lease, heartbeat with progress, finish, cancel."""

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
) -> SqlJob:
    job = SqlJob(
        tenant_id=tenant_id,
        kind=kind,
        status=JobStatus.queued,
        payload=payload,
        progress={},
        checkpoint={},
        created_by=created_by,
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> SqlJob | None:
    return session.scalar(select(SqlJob).where(SqlJob.tenant_id == tenant_id, SqlJob.id == job_id))


def _claimable(now: datetime):
    return or_(
        SqlJob.status == JobStatus.queued,
        (SqlJob.status == JobStatus.running) & (SqlJob.lease_expires_at < now),
    )


def claim(db: Database, worker_id: str, kinds: list[str], lease: timedelta) -> SqlJob | None:
    """Take the oldest claimable job: queued, or running with an expired lease (its worker
    died). Two workers may pick the same candidate; the conditional UPDATE lets one win."""
    for _attempt in range(5):
        now = datetime.now(UTC)
        with db.session() as session:
            candidate = session.scalar(
                select(SqlJob.id)
                .where(SqlJob.kind.in_(kinds), _claimable(now))
                .order_by(SqlJob.created_at)
                .limit(1)
            )
            if candidate is None:
                return None
            won = session.execute(
                update(SqlJob)
                .where(SqlJob.id == candidate, _claimable(now))
                .values(
                    status=JobStatus.running,
                    lease_owner=worker_id,
                    lease_expires_at=now + lease,
                    attempts=SqlJob.attempts + 1,
                    started_at=now,
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
    with db.session() as session:
        session.execute(
            update(SqlJob)
            .where(
                SqlJob.id == job_id,
                SqlJob.lease_owner == worker_id,
                SqlJob.status == JobStatus.running,
            )
            .values(**values)
        )


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
