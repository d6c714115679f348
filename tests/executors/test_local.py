"""The local executor with a small stand-in program (`fake_launcher.py`) instead of the
launcher: success, failure, cancel (the whole process group), logs by byte cursor, and a new
executor over the same state folder (a restarted server) re-attaching or failing the job."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from mantle.executors.base import HeadJob, JobState, JobStatus
from mantle.executors.local import LOST_REASON, UNKNOWN_REASON, LocalExecutor
from mantle.executors.local_supervisor import CHILD_FILE, process_start_time

FAKE_LAUNCHER = [sys.executable, str(Path(__file__).with_name("fake_launcher.py"))]


@pytest.fixture
def executor(tmp_path) -> LocalExecutor:
    return LocalExecutor(tmp_path / "jobs", command=FAKE_LAUNCHER, grace_seconds=1.0)


def job(order: str, **env: str) -> HeadJob:
    return HeadJob(
        run_id=uuid.uuid4(), tenant_id=uuid.uuid4(), run_dir_url=order, name="t", environment=env
    )


def wait_until(executor: LocalExecutor, job_id: str, *statuses: JobStatus) -> JobState:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state = executor.poll([job_id])[job_id]
        if state.status in statuses:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} stayed {state}")


def wait_for_file(path: Path) -> str:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def gone(pid: int) -> bool:
    return process_start_time(pid) is None


def test_success_and_logs(executor):
    job_id = executor.submit(job("ok"))
    assert executor.group_key == "local"
    state = wait_until(executor, job_id, JobStatus.succeeded)
    assert state.exit_code == 0 and state.reason == ""
    assert state.stopped_at is not None and state.started_at is not None

    first = executor.logs(job_id, limit=2)
    assert [line.message for line in first.lines] == ["line 0", "line 1"]
    rest = executor.logs(job_id, first.cursor)
    assert [line.message for line in rest.lines] == ["line 2"]
    empty = executor.logs(job_id, rest.cursor)
    assert empty.lines == [] and empty.cursor == rest.cursor


def test_failure_says_the_exit_code(executor):
    job_id = executor.submit(job("fail:3"))
    state = wait_until(executor, job_id, JobStatus.failed)
    assert state.exit_code == 3
    assert state.reason == "the launcher exited with code 3"


def test_the_job_gets_its_environment_over_the_servers(executor, monkeypatch):
    monkeypatch.setenv("MANTLE_FROM_SERVER", "server")
    first = executor.submit(job("env:MANTLE_FROM_SERVER"))
    second = executor.submit(job("env:MANTLE_X", MANTLE_X="from-job"))
    for job_id, expected in ((first, "server"), (second, "from-job")):
        wait_until(executor, job_id, JobStatus.succeeded)
        assert [line.message for line in executor.logs(job_id).lines] == [expected]


def test_cancel_kills_the_process_group_and_is_idempotent(executor, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    job_id = executor.submit(job(f"sleep:{pid_file}"))
    grandchild = int(wait_for_file(pid_file))
    assert wait_until(executor, job_id, JobStatus.running).status is JobStatus.running

    executor.cancel(job_id, reason="cancelled by ada")
    state = wait_until(executor, job_id, JobStatus.failed)
    assert state.reason == "cancelled by ada"
    deadline = time.monotonic() + 5
    while not gone(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived the cancel"
        time.sleep(0.05)
    executor.cancel(job_id, reason="again")  # nothing left to do: no error
    assert executor.poll([job_id])[job_id].reason == "cancelled by ada"


def test_cancel_escalates_to_sigkill_after_the_grace_period(tmp_path):
    executor = LocalExecutor(tmp_path / "jobs", command=FAKE_LAUNCHER, grace_seconds=0.3)
    job_id = executor.submit(job("stubborn"))
    wait_for_log(executor, job_id, "ignoring SIGTERM")
    started = time.monotonic()
    executor.cancel(job_id, reason="cancelled")
    assert time.monotonic() - started < 0.2  # cancel does not wait for the grace period
    # Nobody polls meanwhile: the cancel's own timer sends the SIGKILL.
    child = json.loads((tmp_path / "jobs" / job_id / "child.json").read_text())["pid"]
    deadline = time.monotonic() + 5
    while not gone(child):
        assert time.monotonic() < deadline, "SIGKILL never came without a poll"
        time.sleep(0.05)
    state = wait_until(executor, job_id, JobStatus.failed)
    assert (state.reason, state.exit_code) == ("cancelled", 128 + signal.SIGKILL)


def wait_for_log(executor: LocalExecutor, job_id: str, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in [line.message for line in executor.logs(job_id).lines]:
        assert time.monotonic() < deadline, f"{text!r} never logged"
        time.sleep(0.02)


def test_a_new_executor_reattaches_to_a_running_job(executor, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    job_id = executor.submit(job(f"sleep:{pid_file}"))
    wait_for_file(pid_file)
    restarted = LocalExecutor(executor.state_dir, command=FAKE_LAUNCHER, grace_seconds=1.0)
    assert wait_until(restarted, job_id, JobStatus.running).status is JobStatus.running
    restarted.cancel(job_id, reason="stopped after restart")
    assert wait_until(restarted, job_id, JobStatus.failed).reason == "stopped after restart"
    # ... and the first executor reads the same result.
    assert executor.poll([job_id])[job_id].reason == "stopped after restart"


def test_a_finished_job_is_seen_by_a_new_executor(executor):
    job_id = executor.submit(job("fail:5"))
    wait_until(executor, job_id, JobStatus.failed)
    restarted = LocalExecutor(executor.state_dir)
    state = restarted.poll([job_id])[job_id]
    assert (state.status, state.exit_code) == (JobStatus.failed, 5)


def test_processes_gone_without_a_result_fail_the_job(executor, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    job_id = executor.submit(job(f"sleep:{pid_file}"))
    wait_for_file(pid_file)
    folder = executor.state_dir / job_id
    # As if the machine went down: supervisor and job die at once, no result is written.
    supervisor = json.loads((folder / "job.json").read_text())["supervisor_pid"]
    child = json.loads((folder / CHILD_FILE).read_text())["pid"]
    os.kill(supervisor, signal.SIGKILL)
    os.killpg(child, signal.SIGKILL)
    state = wait_until(executor, job_id, JobStatus.failed)
    assert state.reason == LOST_REASON
    assert LocalExecutor(executor.state_dir).poll([job_id])[job_id].reason == LOST_REASON


def test_a_reused_pid_is_not_taken_for_the_job(executor):
    job_id = executor.submit(job("ok"))
    wait_until(executor, job_id, JobStatus.succeeded)
    folder = executor.state_dir / job_id
    supervisor = json.loads((folder / "job.json").read_text())["supervisor_pid"]
    deadline = time.monotonic() + 5
    while not gone(supervisor):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (folder / "result.json").unlink()
    # Our own (living) pid, but with another start time: a different process.
    mine = {"pid": os.getpid(), "start_time": process_start_time(os.getpid()) + 1}
    (folder / CHILD_FILE).write_text(json.dumps(mine))
    assert executor.poll([job_id])[job_id].reason == LOST_REASON


def test_unknown_and_malformed_job_ids(executor):
    states = executor.poll([uuid.uuid4().hex, "../../etc", ""])
    assert {s.reason for s in states.values()} == {UNKNOWN_REASON}
    executor.cancel("../../etc", reason="x")  # nothing to cancel, no error
    assert executor.logs("../../etc").lines == []
