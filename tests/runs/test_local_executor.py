"""Launch, logs and cancel with the real local executor (a subprocess per run), with a small
stand-in launcher that reads run.json from the run directory."""

from __future__ import annotations

import json
import sys
import time
import uuid

import pytest

from mantle import rundir
from mantle.db.models import SqlPipeline, SqlPipelineVersion
from mantle.executors.base import JobStatus
from mantle.executors.local import LocalExecutor
from mantle.storage import open_object_store

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


COUNT_READS = """
import json, os, pathlib
inputs = json.loads(pathlib.Path(os.environ["MANTLE_INPUTS_FILE"]).read_text())
counts = {}
for item in inputs:
    for f in item["files"]:
        counts[f["name"]] = pathlib.Path(f["path"]).read_text().count("\\n") // 4
out = pathlib.Path(os.environ["MANTLE_OUTDIR"]) / "counts.json"
out.write_text(json.dumps(counts, sort_keys=True))
print("counted", sum(counts.values()), "reads")
"""


def test_end_to_end_with_the_real_launcher(lab, services, settings, database, app):
    """The run directory launch writes is one the real launcher runs (script engine)."""
    executor = LocalExecutor(settings.data_dir / "executors" / "local", grace_seconds=0.5)
    services.executor_factories.register("local", lambda *_: executor)
    tid = uuid.UUID(lab.tenant_id)
    with database.session() as s:
        pipe = SqlPipeline(tenant_id=tid, name="count-reads", engine="script")
        s.add(pipe)
        s.flush()
        s.add(SqlPipelineVersion(pipeline_id=pipe.id, tenant_id=tid, version=1,
                                 script={"command": ["{python}", "-c", COUNT_READS]}))  # fmt: skip
    store = app.state.object_store.scoped(f"tenants/{lab.tenant_id}/")
    props = {"sample": "S1"}
    for read, text in (("read1", "@a\nAC\n+\nII\n" * 3), ("read2", "@a\nAC\n+\nII\n" * 3)):
        store.put(f"up/S1_{read}.fq", text.encode())
        props[read] = store.uri(f"up/S1_{read}.fq")
    ds = lab.ok("POST", "/datasets", 201, json={"name": "S1", "data_type": "fastq_pair",
                                               "properties": props})  # fmt: skip
    run = lab.launch(pipeline="count-reads", inputs={"datasets": [ds["id"]]})
    state = _until(executor, run["external_id"], JobStatus.succeeded, JobStatus.failed, timeout=60)
    run_dir = open_object_store(run["run_dir"])
    log = run_dir.read_bytes(rundir.LAUNCHER_LOG).decode()
    assert state.status == JobStatus.succeeded, log
    manifest = rundir.OutputsManifest.model_validate_json(run_dir.read_bytes(rundir.OUTPUTS_JSON))
    assert manifest.exit_code == 0 and [f.path for f in manifest.files] == ["counts.json"]
    counts = json.loads(run_dir.read_bytes("outputs/counts.json"))
    assert counts == {"S1_read1.fq": 3, "S1_read2.fq": 3}
    lines = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher")["lines"]
    assert any("counted 6 reads" in ln["message"] for ln in lines)
