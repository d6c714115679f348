"""The monitor against Batch's API (the project's emulator) through the real awsbatch
executor: throttled DescribeJobs never fails a run, a head job that failed to start fails its
run with AWS's words and what to check, and DescribeJobs is called once per 100 runs."""

from __future__ import annotations

import pytest

from mantle.executors.awsbatch import AwsBatchExecutor, BatchTarget, RetryPolicy
from mantle.runs.states import RunStatus
from tests.batch_emulator import running_emulator

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
TARGET = BatchTarget(region="us-east-1", head_queue="mantle-head", compute_queue="mantle-compute",
                     head_image="acme/head:1", head_vcpus=1, head_memory_mib=512)  # fmt: skip


@pytest.fixture
def emulator():
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def batch(lab, emulator):
    executor = AwsBatchExecutor(emulator.connection(), TARGET, group_key="acct", retry=FAST)
    lab.executor_for = lambda *_: executor
    return executor


def batch_runs(lab, emulator, count: int, job_status: str = "RUNNING", **fields):
    runs = lab.runs(count, group="acct", **fields)
    ids = emulator.seed_jobs(count, job_status)
    with lab.db.session() as s:
        for run, job_id in zip(runs, ids, strict=True):
            s.get(type(run), run.id).external_id = job_id
            run.external_id = job_id
    return runs


def test_runs_are_polled_100_at_a_time(lab, emulator, batch):
    runs = batch_runs(lab, emulator, 250)
    before = emulator.calls["describejobs"]
    assert lab.monitor(batch_size=1000).cycle().moved == {"RUNNING": 250}
    assert emulator.calls["describejobs"] - before == 3
    assert {lab.get(r).status for r in runs[:3]} == {"RUNNING"}


def test_throttling_leaves_runs_for_the_next_cycle(lab, emulator, batch):
    (run,) = batch_runs(lab, emulator, 1)
    monitor = lab.monitor(failures_before_failing=1)
    emulator.faults.throttle_describe_jobs = 100
    for _ in range(3):
        lab.make_due(run)
        assert monitor.cycle().group_errors == 1
    assert lab.get(run).status == "SUBMITTED"
    emulator.faults.throttle_describe_jobs = 0
    lab.make_due(run)
    monitor.cycle()
    assert lab.get(run).status == "RUNNING"


def test_a_head_job_that_could_not_start_fails_with_aws_words_and_a_hint(lab, emulator, batch):
    (run,) = batch_runs(lab, emulator, 1, "FAILED", status=RunStatus.running)
    detail = emulator.job(run.external_id).detail
    detail["statusReason"] = "Task failed to start"
    detail["container"]["reason"] = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        "failed to resolve ref docker.io/acme/head:1: not found"
    )
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "FAILED"
    assert row.status_reason.startswith(
        "Task failed to start: CannotPullContainerError: pull image manifest"
    )
    assert "check the head image name and tag" in row.status_reason
