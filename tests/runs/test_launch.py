"""Launching through the API: validation before anything is written, the run directory on a
file:// store, submission, idempotency and failures that end the run instead of stranding it."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from mantle import rundir
from mantle.db.models import SqlRun
from mantle.storage import open_object_store


def _run_dir(run: dict):
    return open_object_store(run["run_dir"])


def _count_runs(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(SqlRun))


def test_launch_writes_the_run_directory_and_submits(lab, executor, settings):
    s1, s2 = lab.pair("S1"), lab.pair("S2")
    run = lab.launch(
        inputs={"datasets": [s1["short_id"], s2["id"]]},
        params={"genome": "GRCm39"},
        name="first",
        labels=["project=X"],
    )
    assert run["status"] == "SUBMITTED" and run["external_id"] == "job-1"
    assert run["short_id"] == "run-1" and run["name"] == "first"
    assert run["environment"] == "local" and run["executor"] == "local"
    assert run["inputs"] == [s1["short_id"], s2["short_id"]]
    assert run["labels"] == ["project=X"]
    store = _run_dir(run)
    spec = rundir.RunSpec.model_validate_json(store.read_bytes(rundir.RUN_JSON))
    assert spec.run_id == run["id"] and spec.pipeline.commit == "a" * 40
    assert spec.pipeline.engine == "nextflow" and spec.executor == "local"
    assert [i.short_id for i in spec.inputs] == [s1["short_id"], s2["short_id"]]
    assert spec.outdir == run["run_dir"] + "outputs/"
    assert spec.weblog_url.startswith(f"http://testserver/api/v1/runs/{run['id']}/weblog?token=")
    params = json.loads(store.read_bytes(rundir.PARAMS_JSON))
    assert params["genome"] == "GRCm39" and params["min_reads"] == 10  # default applied
    assert params["input"] == store.uri(rundir.SAMPLESHEET_CSV)
    sheet = store.read_bytes(rundir.SAMPLESHEET_CSV).decode()
    assert sheet.splitlines()[1].startswith("S1,s3://lab-reads/runs/S1_R1.fastq.gz")
    config = store.read_bytes(rundir.NEXTFLOW_CONFIG).decode()
    assert "process.executor = 'local'" in config and f"workDir = '{run['work_dir']}'" in config
    assert run["work_dir"] == str((settings.data_dir / "work" / run["id"]).resolve())
    assert f"/tenants/{lab.tenant_id}/runs/{run['id']}/" in run["run_dir"]
    (job,) = executor.submits
    assert job.run_dir_url == run["run_dir"] and str(job.run_id) == run["id"]


def test_the_events_secret_is_only_in_run_json(lab, database):
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})
    spec = rundir.RunSpec.model_validate_json(_run_dir(run).read_bytes(rundir.RUN_JSON))
    secret = spec.weblog_url.split("token=")[1]
    assert secret not in json.dumps(run)
    assert secret not in json.dumps(lab.ok("GET", f"/runs/{run['short_id']}"))
    with database.session() as s:
        row = s.get(SqlRun, uuid.UUID(run["id"]))
        import hashlib

        assert row.events_secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_inputs_by_query(lab):
    s1, s2, _s3 = lab.pair("S1"), lab.pair("S2"), lab.pair("S3")
    run = lab.launch(inputs={"query": "type=fastq_pair,sample=[S1,S2]"})
    assert run["inputs"] == [s1["short_id"], s2["short_id"]]
    body = {"pipeline": "rnaseq", "inputs": {"query": "sample=S9"}}
    response = lab.request("POST", "/runs", json=body)
    assert response.status_code == 422 and "no dataset matches" in response.text


def test_request_bounds(lab):
    too_many = [f"l{i}" for i in range(51)]
    assert (
        lab.request("POST", "/runs", json={"pipeline": "rnaseq", "labels": too_many}).status_code
        == 422
    )
    big = {"x": "y" * 300_000}
    assert (
        lab.request("POST", "/runs", json={"pipeline": "rnaseq", "params": big}).status_code == 422
    )
    assert (
        lab.request("POST", "/runs", json={"pipeline": "rnaseq", "name": "n" * 201}).status_code
        == 422
    )


def test_generated_names_and_numbers(lab):
    ds = lab.pair("S1")
    first = lab.launch(inputs={"datasets": [ds["id"]]})
    second = lab.launch(inputs={"datasets": [ds["id"]]})
    assert "_" in first["name"] and (first["number"], second["number"]) == (1, 2)


def test_script_pipeline_runs_without_samplesheet_or_outdir(lab):
    ds = lab.pair("S1")
    run = lab.launch(pipeline="fastq-stats", inputs={"datasets": [ds["id"]]})
    store = _run_dir(run)
    assert not store.exists(rundir.SAMPLESHEET_CSV)
    assert json.loads(store.read_bytes(rundir.PARAMS_JSON)) == {}
    spec = rundir.RunSpec.model_validate_json(store.read_bytes(rundir.RUN_JSON))
    assert spec.pipeline.script == {"command": "fastq-stats", "inputs": ["fastq_pair"]}
    assert spec.session_id == ""
