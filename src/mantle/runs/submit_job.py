"""The `runs.submit` job: submits a run whose submit in the launch request failed with a
retryable error (throttling, a 5xx, a dropped connection), with jittered backoff, and fails
the run with the last error when the attempts run out. A run no longer QUEUED (cancelled
meanwhile) is left alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

from mantle.db.repositories import runs as repo
from mantle.executors.base import HeadJob
from mantle.jobs.context import JobContext
from mantle.jobs.retry import Backoff
from mantle.jobs.worker import JobKind
from mantle.runs import placement
from mantle.runs.launch import SUBMIT_JOB, submit
from mantle.runs.states import RunStatus

ATTEMPTS = 8


def run_submit(ctx: JobContext[placement.RunServices]) -> None:
    run_id = uuid.UUID(ctx.payload["run_id"])
    with ctx.db.session() as session:
        run = repo.get(session, ctx.tenant_id, run_id)
        if run is None or run.status != RunStatus.queued:
            return
        executor = placement.executor_for(ctx.services, session, run)
        job = HeadJob(
            run_id=run.id, tenant_id=run.tenant_id, run_dir_url=run.run_dir, name=run.name
        )
    submit(ctx.db, run_id, executor, job, attempt=ctx.attempt, final=ctx.attempt >= ATTEMPTS)


SUBMIT_JOB_KIND = JobKind[placement.RunServices](
    SUBMIT_JOB,
    run_submit,
    max_attempts=ATTEMPTS,
    backoff=Backoff(base=timedelta(seconds=5), cap=timedelta(minutes=2)),
)
