"""Launch, logs and cancel with the real local executor (a subprocess per run), with a small
stand-in launcher that reads run.json from the run directory."""

from __future__ import annotations

import sys
import time

import pytest

from mantle.executors.base import JobStatus
from mantle.executors.local import LocalExecutor

LAUNCHER = """
import json, pathlib, sys, time, urllib.parse, urllib.request
run_dir = pathlib.Path(urllib.request.url2pathname(urllib.parse.urlsplit(sys.argv[1]).path))
spec = json.loads((run_dir / "run.json").read_text())
print("running", spec["pipeline"]["name"], "as", spec["name"], flush=True)
(run_dir / "launcher.log").write_text("launcher: params " + json.dumps(spec["params"]) + "\\n")
if spec["params"].get("genome") == "sleep":
    time.sleep(60)
"""


@pytest.fixture
def local(services, settings) -> LocalExecutor:
    executor = LocalExecutor(
        settings.data_dir / "executors" / "local",
        command=[sys.executable, "-c", LAUNCHER],
        grace_seconds=0.5,
    )
    services.executor_factories.register("local", lambda *_: executor)
    return executor


def _until(executor: LocalExecutor, job_id: str, *statuses: JobStatus, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = executor.poll([job_id])[job_id]
        if state.status in statuses:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {state.status}")


def test_a_local_run_starts_and_logs(lab, local):
    ds = lab.pair("S1")
    run = lab.launch(inputs={"datasets": [ds["id"]]}, name="real-local")
    assert run["status"] == "SUBMITTED" and run["external_id"]
    state = _until(local, run["external_id"], JobStatus.succeeded, JobStatus.failed)
    assert state.status == JobStatus.succeeded, state.reason
    lines = [ln["message"] for ln in lab.ok("GET", f"/runs/{run['id']}/logs")["lines"]]
    assert "running rnaseq as real-local" in lines
    launcher = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher")["lines"]
    assert launcher[0]["message"].startswith('launcher: params {"genome": "GRCh38"')


def test_cancel_stops_the_local_process(lab, local):
    ds = lab.pair("S1")
    run = lab.launch(inputs={"datasets": [ds["id"]]}, params={"genome": "sleep"})
    _until(local, run["external_id"], JobStatus.running)
    assert lab.ok("POST", f"/runs/{run['id']}/cancel")["status"] == "CANCELLED"
    state = _until(local, run["external_id"], JobStatus.failed, JobStatus.succeeded)
    assert state.status == JobStatus.failed
