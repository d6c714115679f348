"""Launch failures: refused before anything is written (bad params, unknown pipeline,
environment or dataset), or recorded on the run (submit errors, an unwritable run directory);
and idempotent retries."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from mantle.db.models import SqlJob, SqlRun
from mantle.errors import CloudError, StorageError
from mantle.runs.submit_job import ATTEMPTS, run_submit


def _count_runs(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(SqlRun))


def test_bad_params_are_refused_naming_the_param_before_anything_is_written(
    lab, executor, database
):
    ds = lab.pair("S1")
    response = lab.request(
        "POST",
        "/runs",
        json={
            "pipeline": "rnaseq",
            "inputs": {"datasets": [ds["id"]]},
            "params": {"min_reads": "x"},
        },
    )
    assert response.status_code == 422 and "min_reads" in response.json()["error"]["message"]
    response = lab.request("POST", "/runs", json={"pipeline": "rnaseq"})  # no input: required
    assert response.status_code == 422 and "input" in response.json()["error"]["message"]
    assert _count_runs(database) == 0 and executor.submits == []


def test_unknown_pipeline_environment_or_dataset(lab, factory, api, database, executor):
    ds = lab.pair("S1")
    assert lab.request("POST", "/runs", json={"pipeline": "nope"}).status_code == 404
    body = {"pipeline": "rnaseq", "inputs": {"datasets": [ds["id"]]}, "environment": "prod"}
    assert lab.request("POST", "/runs", json=body).status_code == 404
    body = {"pipeline": "rnaseq", "inputs": {"datasets": ["DS-000999"]}}
    assert lab.request("POST", "/runs", json=body).status_code == 404
    # Another tenant's dataset is not found either.
    from tests.runs.conftest import make_lab

    other = make_lab(factory, api, database, "globex", "gary@example.com")
    theirs = other.pair("G1")
    body = {"pipeline": "rnaseq", "inputs": {"datasets": [theirs["id"]]}}
    assert lab.request("POST", "/runs", json=body).status_code == 404
    assert _count_runs(database) == 0 and executor.submits == []


def test_idempotency_key(lab, executor, factory):
    ds = lab.pair("S1")
    body = {"inputs": {"datasets": [ds["id"]]}, "idempotency_key": "k-1"}
    first = lab.launch(**body)
    again = lab.launch(**body)
    assert again["id"] == first["id"] and len(executor.submits) == 1
    other_body = lab.request("POST", "/runs", json={**body, "pipeline": "rnaseq", "name": "x"})
    assert other_body.status_code == 409
    bob = factory.member("acme", "bob@example.com", "member")
    other_user = lab.request("POST", "/runs", as_=bob, json={**body, "pipeline": "rnaseq"})
    assert other_user.status_code == 409


def test_retryable_submit_failure_queues_a_retry_job(lab, executor, database, app):
    executor.fail_with = CloudError("Batch is throttling", retryable=True)
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})
    assert run["status"] == "QUEUED"
    with database.session() as s:
        (job,) = s.scalars(select(SqlJob)).all()
        assert job.kind == "runs.submit" and job.payload == {"run_id": run["id"]}
    # The job's next attempt succeeds.
    executor.fail_with = None
    from mantle.jobs.worker import Worker
    from mantle.services import JOB_KINDS

    worker = Worker(database, JOB_KINDS, app.state.services)
    assert worker.run_once()
    assert lab.ok("GET", f"/runs/{run['id']}")["status"] == "SUBMITTED"


def test_permanent_submit_failure_fails_the_run_with_the_message(lab, executor):
    executor.fail_with = CloudError(
        "AccessDeniedException: not allowed to SubmitJob; run `mantle aws doctor`"
    )
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})
    assert run["status"] == "FAILED" and "AccessDenied" in run["status_reason"]
    assert "doctor" in run["status_reason"]


def test_a_run_directory_that_cannot_be_written_fails_the_run(lab, executor, monkeypatch):
    from mantle.storage.file import FileObjectStore

    ds = lab.pair("S1")

    def broken(self, *args, **kwargs):
        raise StorageError("disk full")

    monkeypatch.setattr(FileObjectStore, "_put", broken)
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    assert run["status"] == "FAILED" and "run directory" in run["status_reason"]
    assert "disk full" in run["status_reason"] and executor.submits == []


def test_a_script_pipeline_without_its_required_inputs(lab, executor, database):
    response = lab.request("POST", "/runs", json={"pipeline": "fastq-stats"})
    assert response.status_code == 422 and "needs a dataset" in response.text
    assert _count_runs(database) == 0 and executor.submits == []


def test_the_submit_job_retries_then_fails_the_run_on_its_last_attempt(
    lab, executor, database, app
):
    executor.fail_with = CloudError("Batch is throttling", retryable=True)
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})

    def attempt(n: int):
        ctx = SimpleNamespace(
            db=database, payload={"run_id": run["id"]}, tenant_id=uuid.UUID(lab.tenant_id),
            services=app.state.services, attempt=n,
        )  # fmt: skip
        run_submit(ctx)

    with pytest.raises(CloudError):  # the worker retries it later, with backoff
        attempt(1)
    assert lab.ok("GET", f"/runs/{run['id']}")["status"] == "QUEUED"
    attempt(ATTEMPTS)
    failed = lab.ok("GET", f"/runs/{run['id']}")
    assert failed["status"] == "FAILED" and "throttling" in failed["status_reason"]
    attempt(ATTEMPTS)  # a late duplicate of the job leaves the finished run alone
