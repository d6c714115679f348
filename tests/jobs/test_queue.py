"""The queue on SQLite and PostgreSQL: `run_after` is respected, expired leases are taken
over, and concurrent claims never hand one job to two workers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from mantle.jobs import queue
from mantle.jobs.queue import JobStatus
from tests.jobs.conftest import add_job, expire_lease, job_row

LEASE = timedelta(seconds=60)


def test_a_job_is_not_claimed_before_run_after(database, tenant_id):
    later = datetime.now(UTC) + timedelta(hours=1)
    job_id = add_job(database, tenant_id, run_after=later)
    assert queue.claim(database, "w1", ["test.echo"], LEASE) is None
    claimed = queue.claim(database, "w1", ["test.echo"], LEASE, now=later + timedelta(seconds=1))
    assert claimed is not None and claimed.id == job_id and claimed.attempts == 1


def test_due_jobs_are_claimed_in_run_after_order(database, tenant_id):
    now = datetime.now(UTC)
    second = add_job(database, tenant_id, run_after=now - timedelta(minutes=1))
    first = add_job(database, tenant_id, run_after=now - timedelta(minutes=2))
    assert queue.claim(database, "w1", ["test.echo"], LEASE).id == first
    assert queue.claim(database, "w1", ["test.echo"], LEASE).id == second


def test_an_expired_lease_is_taken_over_by_another_worker(database, tenant_id):
    job_id = add_job(database, tenant_id)
    assert queue.claim(database, "w1", ["test.echo"], LEASE).id == job_id
    assert queue.claim(database, "w2", ["test.echo"], LEASE) is None  # w1 holds it

    expire_lease(database, job_id)  # w1 died
    taken = queue.claim(database, "w2", ["test.echo"], LEASE)
    assert taken.id == job_id and taken.lease_owner == "w2" and taken.attempts == 2
    # w1 comes back: it can neither renew nor finish the job any more.
    assert not queue.heartbeat(database, job_id, "w1", LEASE)
    queue.finish(database, job_id, "w1", JobStatus.succeeded)
    assert job_row(database, job_id).status == JobStatus.running


def test_concurrent_claims_hand_each_job_to_one_worker(database, tenant_id):
    jobs = {add_job(database, tenant_id) for _ in range(24)}
    claimed: list = []
    start = threading.Barrier(6)

    def claim_all(worker: str) -> None:
        start.wait()
        while (job := queue.claim(database, worker, ["test.echo"], LEASE)) is not None:
            claimed.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(jobs)  # every job once, none twice


def test_release_hands_the_job_back_without_counting_the_attempt(database, tenant_id):
    job_id = add_job(database, tenant_id)
    queue.claim(database, "w1", ["test.echo"], LEASE)
    queue.release(database, job_id, "w1")
    row = job_row(database, job_id)
    assert (row.status, row.attempts, row.lease_owner) == (JobStatus.queued, 0, None)
    assert queue.claim(database, "w2", ["test.echo"], LEASE).id == job_id
