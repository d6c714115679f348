"""The awsbatch executor against the project's Batch emulator (jobs really run, as
subprocesses) with CloudWatch Logs on moto: the lifecycle, batched polling, faults AWS can
answer with, cancel of the head job and its task jobs, and job definition reuse."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from mantle.errors import CloudError
from mantle.executors.awsbatch import GONE_REASON, AwsBatchExecutor, BatchTarget, RetryPolicy
from mantle.executors.base import HeadJob, JobState, JobStatus

FAKE_LAUNCHER = [sys.executable, str(Path(__file__).with_name("fake_launcher.py"))]
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def target(**changes) -> BatchTarget:
    fields = {
        "region": "us-east-1",
        "head_queue": "mantle-head",
        "compute_queue": "mantle-compute",
        "head_image": f"acme/head:{uuid.uuid4().hex[:8]}",  # a definition of each test's own
        "head_vcpus": 1,
        "head_memory_mib": 512,
        "work_dir": "s3://acme/work",
    }
    return BatchTarget(**{**fields, **changes})


@pytest.fixture
def emulator(batch_emulator):
    batch_emulator.replace_command(["python", "-m", "mantle.launcher"], FAKE_LAUNCHER)
    return batch_emulator


@pytest.fixture
def executor(emulator) -> AwsBatchExecutor:
    return AwsBatchExecutor(
        emulator.connection(), target(), group_key=uuid.uuid4().hex, retry=FAST_RETRY
    )


def head_job(order: str, name: str = "my run") -> HeadJob:
    return HeadJob(run_id=uuid.uuid4(), tenant_id=uuid.uuid4(), run_dir_url=order, name=name)


def finished(executor, emulator, job_id: str) -> JobState:
    emulator.wait_for(job_id)
    return executor.poll([job_id])[job_id]


def test_submit_poll_succeeded_and_logs_by_cursor(executor, emulator):
    job = head_job("ok", name="rnaseq #1")
    job_id = executor.submit(job)
    assert executor.poll([job_id])[job_id].status in (JobStatus.pending, JobStatus.running)

    state = finished(executor, emulator, job_id)
    assert state.status is JobStatus.succeeded and state.exit_code == 0
    assert state.started_at and state.stopped_at and state.started_at <= state.stopped_at

    detail = emulator.job(job_id).detail
    assert detail["jobName"] == f"mantle-{job.run_id.hex[:8]}-rnaseq-1"
    assert detail["tags"] == {"mantle:run": str(job.run_id), "mantle:tenant": str(job.tenant_id)}
    environment = {e["name"]: e["value"] for e in detail["container"]["environment"]}
    assert environment["AWS_BATCH_JOB_ID"] == job_id

    first = executor.logs(job_id, limit=2)
    assert [line.message for line in first.lines] == ["line 0", "line 1"]
    assert all(line.timestamp is not None for line in first.lines)
    rest = executor.logs(job_id, first.cursor)
    assert [line.message for line in rest.lines] == ["line 2"]
    assert executor.logs(job_id, rest.cursor).lines == []


def test_a_failing_head_job_says_its_exit_code(executor, emulator):
    job_id = executor.submit(head_job("fail:3"))
    state = finished(executor, emulator, job_id)
    assert (state.status, state.exit_code) == (JobStatus.failed, 3)
    assert state.reason == "Essential container in task exited (exit code 3)"


def test_250_jobs_are_polled_in_3_describe_jobs_calls(executor, emulator):
    emulator.faults.hold_jobs = True  # stay RUNNABLE: no 250 processes
    ids = [executor.submit(head_job("ok")) for _ in range(250)]
    before = executor.calls["DescribeJobs"]
    states = executor.poll([*ids, *ids[:10]])  # duplicates are asked for once
    assert executor.calls["DescribeJobs"] - before == 3
    assert len(states) == 250
    assert {s.status for s in states.values()} == {JobStatus.pending}


def test_jobs_batch_no_longer_knows_are_failed(executor):
    unknown = str(uuid.uuid4())
    assert executor.poll([unknown])[unknown] == JobState(unknown, JobStatus.failed, GONE_REASON)


def test_throttled_describe_jobs_is_retried(executor, emulator):
    job_id = executor.submit(head_job("ok"))
    emulator.faults.throttle_describe_jobs = 2
    before = emulator.calls["describejobs"]
    assert executor.poll([job_id])[job_id].status is not JobStatus.failed
    assert emulator.calls["describejobs"] - before == 3  # ours are the only retries

    emulator.faults.throttle_describe_jobs = 10  # longer than the retries last
    with pytest.raises(CloudError) as caught:
        executor.poll([job_id])
    assert caught.value.retryable
    assert "TooManyRequestsException" in caught.value.message
    emulator.faults.throttle_describe_jobs = 0
    emulator.faults.server_errors = 1  # a 5xx is retried too
    assert executor.poll([job_id])[job_id].status is not JobStatus.failed


def test_access_denied_on_submit_is_permanent_with_the_doctor_hint(executor, emulator):
    emulator.faults.deny_submit = True
    with pytest.raises(CloudError) as caught:
        executor.submit(head_job("ok"))
    error = caught.value
    assert not error.retryable
    assert "AccessDeniedException" in error.message
    assert "not authorized to perform: batch:SubmitJob" in error.message  # AWS's own words
    assert "batch:SubmitJob on the head queue" in error.message
    assert "mantle aws doctor" in error.message
    assert emulator.calls["submitjob"] == 1  # never retried


def test_unknown_queue_is_permanent_with_the_doctor_hint(emulator):
    executor = AwsBatchExecutor(
        emulator.connection(), target(head_queue="nope"), group_key="g", retry=FAST_RETRY
    )
    with pytest.raises(CloudError) as caught:
        executor.submit(head_job("ok"))
    assert not caught.value.retryable
    assert "JobQueue nope not found" in caught.value.message
    assert "queue names" in caught.value.message and "mantle aws doctor" in caught.value.message


def test_a_head_job_that_cannot_start_says_why(executor, emulator):
    reason = "CannotPullContainerError: pull access denied for acme/head, repository does not exist"
    emulator.faults.start_failure = reason
    job_id = executor.submit(head_job("ok"))
    state = finished(executor, emulator, job_id)
    assert state.status is JobStatus.failed
    assert state.reason == reason and state.exit_code is None
    assert executor.logs(job_id).lines == []  # never ran: no log stream


def test_cancel_terminates_the_head_job_and_its_task_jobs(executor, emulator, tmp_path):
    head = executor.submit(head_job(f"sleep:{tmp_path / 'head.pid'}"))
    tasks = [executor.submit(head_job(f"sleep:{tmp_path / f'task{n}.pid'}")) for n in range(2)]
    emulator.faults.hold_jobs = True
    waiting = executor.submit(head_job("ok"))  # a task job that never started
    for job_id in (head, *tasks):
        emulator.wait_for(job_id, "RUNNING")

    executor.cancel(head, reason="cancelled by ada", task_ids=[*tasks, waiting])
    states = {job_id: finished(executor, emulator, job_id) for job_id in (head, *tasks, waiting)}
    assert {s.status for s in states.values()} == {JobStatus.failed}
    assert {s.reason.split(" (exit")[0] for s in states.values()} == {"cancelled by ada"}
    # Idempotent: finished and unknown ids are fine.
    executor.cancel(head, reason="again", task_ids=[str(uuid.uuid4())])
    assert executor.poll([head])[head].reason.startswith("cancelled by ada")


def test_the_job_definition_is_registered_once(emulator):
    first = AwsBatchExecutor(emulator.connection(), target(), group_key="g1", retry=FAST_RETRY)
    ids = [first.submit(head_job("ok")) for _ in range(2)]
    assert emulator.calls["registerjobdefinition"] == 1
    assert emulator.calls["describejobdefinitions"] == 1  # then remembered

    # Another process (an empty cache) finds the ACTIVE definition instead of registering.
    other = AwsBatchExecutor(emulator.connection(), first.target, group_key="g2")
    ids.append(other.submit(head_job("ok")))
    assert emulator.calls["registerjobdefinition"] == 1
    definitions = definitions_used(emulator, ids)
    assert len(definitions) == 1 and next(iter(definitions)).endswith(":1")

    # Deregistered behind our back: the next submit registers a new revision.
    batch = emulator.connection().client("batch")
    batch.deregister_job_definition(jobDefinition=definitions_used(emulator, ids).pop())
    job_id = first.submit(head_job("ok"))
    assert emulator.calls["registerjobdefinition"] == 2
    assert definitions_used(emulator, [job_id]).pop().endswith(":2")

    changed = AwsBatchExecutor(emulator.connection(), target(head_memory_mib=1024), group_key="g1")
    changed.submit(head_job("ok"))
    assert emulator.calls["registerjobdefinition"] == 3


def definitions_used(emulator, job_ids) -> set[str]:
    return {emulator.job(i).detail["jobDefinition"] for i in job_ids}


def test_seeded_jobs_for_benchmarks(executor, emulator):
    ids = emulator.seed_jobs(150)
    states = executor.poll(ids)
    assert {s.status for s in states.values()} == {JobStatus.running}
    assert executor.calls["DescribeJobs"] == 2


def test_a_refused_job_definition_is_permanent_with_the_doctor_hint(emulator):
    executor = AwsBatchExecutor(
        emulator.connection(), target(head_image=""), group_key="g", retry=FAST_RETRY
    )
    with pytest.raises(CloudError) as caught:
        executor.submit(head_job("ok"))
    assert not caught.value.retryable
    assert "Container properties should contain an image" in caught.value.message
    assert "head job definition was refused" in caught.value.message
    assert emulator.calls["submitjob"] == 0


def test_logs_from_a_custom_log_group(emulator, moto_server):
    group = f"/acme/jobs-{uuid.uuid4().hex[:8]}"
    executor = AwsBatchExecutor(
        emulator.connection(), target(log_group=group), group_key="g", retry=FAST_RETRY
    )
    job_id = executor.submit(head_job("fail:4"))
    emulator.wait_for(job_id)
    assert [line.message for line in executor.logs(job_id).lines] == ["about to fail"]
    streams = moto_server.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [
        emulator.job(job_id).detail["container"]["logStreamName"]
    ]


def test_a_jobs_own_aws_calls_reach_the_emulator_and_moto(executor, emulator, moto_server):
    batch_id = executor.submit(head_job("env:AWS_ENDPOINT_URL_BATCH"))
    other_id = executor.submit(head_job("env:AWS_ENDPOINT_URL"))
    for job_id, expected in (
        (batch_id, emulator.endpoint_url),
        (other_id, moto_server.endpoint_url),
    ):
        emulator.wait_for(job_id)
        assert [line.message for line in executor.logs(job_id).lines] == [expected]
