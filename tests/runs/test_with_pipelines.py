"""Launching through the real pipelines service (skipped in a build without it): the
built-in `fastq-stats` end to end on the local executor with the real launcher, and params
checked against its schema."""

from __future__ import annotations

import sys
import time

import pytest

from mantle import rundir
from mantle.executors.base import JobStatus
from mantle.executors.local import LocalExecutor
from mantle.storage import open_object_store

pytest.importorskip("mantle.pipelines.service")

FASTQ = b"@r1\nACGTGC\n+\nIIIIII\n@r2\nGGCC\n+\nIIII\n"


@pytest.fixture
def real(services, settings):
    """The platform's pipelines (not the stand-in), and the real local executor."""
    from mantle.runs.pipeline_port import PlatformPipelines

    services.runs.pipelines = PlatformPipelines(services)
    executor = LocalExecutor(settings.data_dir / "executors" / "local", grace_seconds=0.5)
    services.executor_factories.register("local", lambda *_: executor)
    return executor


def _pair(lab, app, sample: str) -> dict:
    store = app.state.object_store.scoped(f"tenants/{lab.tenant_id}/")
    props = {"sample": sample}
    for read in ("read1", "read2"):
        store.put(f"up/{sample}_{read}.fastq", FASTQ)
        props[read] = store.uri(f"up/{sample}_{read}.fastq")
    body = {"name": sample, "data_type": "fastq_pair", "properties": props}
    return lab.ok("POST", "/datasets", 201, json=body)


def test_fastq_stats_runs_end_to_end(lab, app, real):
    ds = [_pair(lab, app, s)["id"] for s in ("S1", "S2")]
    run = lab.launch(pipeline="fastq-stats", inputs={"datasets": ds}, params={"max_reads": 1})
    assert run["status"] == "SUBMITTED" and run["engine"] == "script"
    deadline = time.monotonic() + 60
    while (state := real.poll([run["external_id"]])[run["external_id"]]).status not in (
        JobStatus.succeeded, JobStatus.failed,
    ) and time.monotonic() < deadline:  # fmt: skip
        time.sleep(0.1)
    run_dir = open_object_store(run["run_dir"])
    assert state.status == JobStatus.succeeded, run_dir.read_bytes(rundir.LAUNCHER_LOG)
    manifest = rundir.OutputsManifest.model_validate_json(run_dir.read_bytes(rundir.OUTPUTS_JSON))
    assert {f.path for f in manifest.files} >= {"fastq_stats.csv", "fastq_stats.html"}


def test_params_are_checked_against_the_schema(lab, app, real):
    ds = _pair(lab, app, "S1")["id"]
    body = {"pipeline": "fastq-stats", "inputs": {"datasets": [ds]}}
    response = lab.request("POST", "/runs", json={**body, "params": {"max_reads": -1}})
    assert response.status_code == 422 and "max_reads" in response.json()["error"]["message"]
    response = lab.request("POST", "/runs", json={"pipeline": "fastq-stats"})
    assert response.status_code == 422 and "reads" in response.json()["error"]["message"]
    assert sys.modules.get("mantle.pipelines.schema") is not None
