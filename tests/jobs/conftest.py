"""Job-queue tests work on the database alone: a tenant to own the jobs, and helpers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from mantle.db.models import SqlJob, SqlTenant
from mantle.jobs import queue


@pytest.fixture
def tenant_id(database) -> uuid.UUID:
    with database.session() as s:
        tenant = SqlTenant(slug=f"t-{uuid.uuid4().hex[:8]}", name="Jobs")
        s.add(tenant)
        s.flush()
        return tenant.id


def add_job(db, tenant_id, kind="test.echo", payload=None, **options) -> uuid.UUID:
    with db.session() as s:
        return queue.enqueue(s, tenant_id, kind, payload or {}, **options).id


def job_row(db, job_id) -> SqlJob:
    with db.session() as s:
        return s.get(SqlJob, job_id)


def make_due(db, job_id) -> None:
    """Skip the backoff wait (as if it had passed)."""
    with db.session() as s:
        past = datetime.now(UTC) - timedelta(seconds=1)
        s.execute(update(SqlJob).where(SqlJob.id == job_id).values(run_after=past))


def expire_lease(db, job_id) -> None:
    with db.session() as s:
        past = datetime.now(UTC) - timedelta(seconds=1)
        s.execute(update(SqlJob).where(SqlJob.id == job_id).values(lease_expires_at=past))
