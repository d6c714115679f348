"""The worker: retries only retryable errors, with backoff, up to the kind's max attempts;
keeps long handlers' leases alive; runs several threads that never share a job; stops
cleanly, handing running jobs back."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from mantle.errors import CloudError, InvalidInputError
from mantle.jobs import queue
from mantle.jobs.context import JobContext
from mantle.jobs.queue import JobStatus
from mantle.jobs.retry import Backoff
from mantle.jobs.worker import JobKind, Worker
from tests.jobs.conftest import add_job, expire_lease, job_row, make_due

BACKOFF = Backoff(base=timedelta(seconds=30), cap=timedelta(minutes=5))


@dataclass
class Calls:
    """What the handlers saw: (job id, lease holder) per call."""

    seen: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ctx: JobContext) -> None:
        with self.lock:
            self.seen.append((ctx.job_id, ctx.lease.worker_id))


def make_worker(db, handler, *, max_attempts=3, **options) -> Worker[Calls]:
    kind = JobKind("test.echo", handler, max_attempts=max_attempts, backoff=BACKOFF)
    options.setdefault("poll_seconds", 0.05)
    return Worker(db, [kind], Calls(), **options)


def throttled(ctx: JobContext[Calls]) -> None:
    ctx.services.record(ctx)
    error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    raise ClientError(error, "DescribeJobs")


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (9, 300)]:
        delays = [BACKOFF.delay(attempt, rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_a_retryable_error_is_retried_with_backoff_then_fails(database, tenant_id):
    worker = make_worker(database, throttled, max_attempts=3)
    job_id = add_job(database, tenant_id)
    for attempt in (1, 2):
        before = datetime.now(UTC)
        assert worker.run_once()
        row = job_row(database, job_id)
        assert row.status == JobStatus.queued and row.attempts == attempt
        assert "ThrottlingException" in row.error
        ceiling = BACKOFF.base * 2 ** (attempt - 1)
        assert before + ceiling / 2 <= row.run_after <= datetime.now(UTC) + ceiling
        assert not worker.run_once()  # waiting out the backoff
        make_due(database, job_id)
    assert worker.run_once()
    row = job_row(database, job_id)
    assert row.status == JobStatus.failed and row.attempts == 3
    assert row.error.startswith("gave up after 3 attempts: AWS failed while running")
    assert "ThrottlingException" in row.error
    assert len(worker.services.seen) == 3


@pytest.mark.parametrize(
    "error, message",
    [
        (InvalidInputError("data type 'fastq' does not exist"), "data type 'fastq' does not exist"),
        (CloudError("AWS failed: AccessDenied", retryable=False), "AWS failed: AccessDenied"),
        (ValueError("secret-ish internals"), "internal error; the worker log has the details"),
    ],
)
def test_a_permanent_error_fails_the_job_at_once(database, tenant_id, error, message):
    def fails(ctx):
        raise error

    job_id = add_job(database, tenant_id)
    assert make_worker(database, fails).run_once()
    row = job_row(database, job_id)
    assert (row.status, row.attempts, row.error) == (JobStatus.failed, 1, message)


def test_a_job_whose_workers_keep_dying_is_failed_after_max_attempts(database, tenant_id):
    job_id = add_job(database, tenant_id)
    for holder in ("dead-1", "dead-2"):  # two attempts whose workers vanished mid-job
        assert queue.claim(database, holder, ["test.echo"], timedelta(seconds=60)).id == job_id
        expire_lease(database, job_id)
    ran = []
    assert make_worker(database, ran.append, max_attempts=2).run_once()
    row = job_row(database, job_id)
    assert not ran and row.status == JobStatus.failed
    assert row.error.startswith("gave up after 2 attempts that ended without a result")


def test_the_lease_is_renewed_while_a_long_handler_runs(database, tenant_id):
    lease = timedelta(seconds=0.6)
    other_claims = []

    def slow(ctx):
        deadline = time.monotonic() + 2.0  # more than three leases, without reporting
        while time.monotonic() < deadline:
            other_claims.append(queue.claim(database, "other", ["test.echo"], lease))
            time.sleep(0.2)

    job_id = add_job(database, tenant_id)
    assert make_worker(database, slow, lease=lease).run_once()
    assert other_claims and all(c is None for c in other_claims)
    assert job_row(database, job_id).status == JobStatus.succeeded


def test_two_workers_with_several_threads_never_run_the_same_job(database, tenant_id):
    jobs = {add_job(database, tenant_id) for _ in range(16)}
    calls = Calls()

    def handler(ctx):
        calls.record(ctx)
        time.sleep(0.02)

    kind = JobKind("test.echo", handler)
    workers = [Worker(database, [kind], calls, threads=3, poll_seconds=0.05) for _ in range(2)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(calls.seen) < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(worker.stop(timeout=10) for worker in workers)
    assert sorted(job for job, _ in calls.seen) == sorted(jobs)  # each exactly once
    assert len({holder for _, holder in calls.seen}) > 1
    assert {job_row(database, j).status for j in jobs} == {JobStatus.succeeded}


def test_worker_threads_run_jobs_at_the_same_time(database, tenant_id):
    together = threading.Barrier(3, timeout=20)  # passes only if 3 jobs run at once

    def handler(ctx):
        together.wait()

    jobs = [add_job(database, tenant_id) for _ in range(3)]
    worker = make_worker(database, handler, threads=3)
    threads = worker.start()
    assert len(threads) == 3
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        job_row(database, j).status != JobStatus.succeeded for j in jobs
    ):
        time.sleep(0.05)
    assert worker.stop(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert {job_row(database, j).status for j in jobs} == {JobStatus.succeeded}


def test_stopping_hands_a_running_job_back(database, tenant_id):
    started = threading.Event()

    def endless(ctx):
        started.set()
        while True:
            ctx.report({"step": "busy"})
            time.sleep(0.05)

    job_id = add_job(database, tenant_id)
    worker = make_worker(database, endless)
    worker.start()
    assert started.wait(20)
    assert worker.stop(timeout=10)
    row = job_row(database, job_id)
    assert (row.status, row.attempts, row.lease_owner) == (JobStatus.queued, 0, None)
    assert row.progress == {"step": "busy"}


def test_the_platform_worker_gets_typed_services_and_its_thread_count(settings, database):
    from mantle.catalog.imports import IMPORT_JOB
    from mantle.services import JOB_KINDS, Services, build_services
    from mantle.settings import Settings
    from mantle.storage import build_object_store

    configured = Settings(**{**settings.model_dump(), "worker": {"embedded": False, "threads": 3}})
    services = build_services(configured, build_object_store(configured))
    worker = services.worker(database)
    assert isinstance(worker.services, Services) and worker.services is services
    assert worker.threads == 3 and worker.kinds == {k.name: k for k in JOB_KINDS}
    assert worker.kinds[IMPORT_JOB.name] is IMPORT_JOB and "runs.submit" in worker.kinds
