"""Resume and relaunch end to end on the local executor with the Nextflow stand-in (the real
`nextflow` when on PATH): a run whose task fails records Nextflow's own session id (from the
weblog's `started` and from outputs.json), its resume with the failure param changed passes
`-resume <that session>` so the finished tasks come back CACHED and are not run again; a
relaunch of a finished run is a new run with the same inputs and params."""

from __future__ import annotations

import uuid

from mantle import rundir
from mantle.db.models import SqlRun
from mantle.storage import open_object_store
from tests.runs_monitor.test_monitor_end_to_end import call
from tests.runs_monitor.test_monitor_nextflow import (  # noqa: F401 - fixtures
    follow,
    launch,
    member,
    pipeline,
    proxy,
    services,
    settings,
)

FAIL = {"fail_process": "STAR_ALIGN", "fail_sample": "S2", "fail_exit": 3}


def tasks_of(api, member, run_id: str) -> dict[tuple[str, str], dict]:  # noqa: F811
    items = call(api, member, "GET", f"/runs/{run_id}/tasks")["items"]
    return {(t["process"], t["tag"]): t for t in items}


def test_resume_continues_nextflow_session_with_changed_params(
    api, app, database, member, pipeline, services  # noqa: F811
):  # fmt: skip
    first = launch(api, app, member, **FAIL)
    shown = follow(api, member, services, database, first["id"])
    assert shown["status"] == "FAILED" and "STAR_ALIGN (S2)" in shown["status_reason"]
    store = open_object_store(first["run_dir"])
    manifest = rundir.OutputsManifest.model_validate_json(store.read_bytes(rundir.OUTPUTS_JSON))
    with database.session() as s:
        session = s.get(SqlRun, uuid.UUID(first["id"])).session_id
    assert session and manifest.session_id == session  # Nextflow's, not one made at launch
    done_before = {k for k, t in tasks_of(api, member, first["id"]).items()
                   if t["status"] == "COMPLETED"}  # fmt: skip
    assert done_before == {("FASTQC", "S1"), ("FASTQC", "S2"), ("STAR_ALIGN", "S1")}

    body = {"params": {"fail_process": ""}}
    resumed = call(api, member, "POST", f"/runs/{first['id']}/resume", 201, json=body)
    assert resumed["resume_of"] == first["id"] and resumed["params"]["fail_process"] == ""
    assert resumed["params"]["fail_sample"] == "S2"  # the rest as before
    shown = follow(api, member, services, database, resumed["id"])
    assert shown["status"] == "SUCCEEDED", shown
    tasks = tasks_of(api, member, resumed["id"])
    assert {k for k, t in tasks.items() if t["status"] == "CACHED"} == done_before
    assert {k for k, t in tasks.items() if t["status"] == "COMPLETED"} == {
        ("STAR_ALIGN", "S2"), ("MULTIQC", ""),
    }  # fmt: skip
    log = open_object_store(resumed["run_dir"]).read_bytes(rundir.LAUNCHER_LOG).decode()
    assert f"-resume {session}" in log
    with database.session() as s:
        assert s.get(SqlRun, uuid.UUID(resumed["id"])).session_id == session
    outputs = {o["path"] for o in call(api, member, "GET", f"/runs/{resumed['id']}/outputs")}
    assert {"star/S1.bam", "star/S2.bam", "multiqc/multiqc_report.html"} <= outputs


def test_relaunch_of_a_finished_run_runs_again(api, app, database, member, pipeline, services):  # noqa: F811
    first = launch(api, app, member)
    assert follow(api, member, services, database, first["id"])["status"] == "SUCCEEDED"
    again = call(api, member, "POST", f"/runs/{first['id']}/relaunch", 201, json={})
    assert again["id"] != first["id"] and again["relaunch_of"] == first["id"]
    assert again["inputs"] == first["inputs"]
    moved = ("input", "outdir")  # the new run's own samplesheet and outputs folder
    assert {k: v for k, v in again["params"].items() if k not in moved} == {
        k: v for k, v in first["params"].items() if k not in moved
    }
    assert again["params"]["outdir"] == again["run_dir"] + "outputs/"
    shown = follow(api, member, services, database, again["id"])
    assert shown["status"] == "SUCCEEDED", shown
    assert {t["status"] for t in tasks_of(api, member, again["id"]).values()} == {"COMPLETED"}
    outputs = call(api, member, "GET", f"/runs/{again['id']}/outputs")
    assert any(o["path"] == "star/S1.bam" and o["dataset_id"] for o in outputs)
