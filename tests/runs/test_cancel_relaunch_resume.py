"""Cancel (head job and task jobs, roles, idempotence), relaunch and resume."""

from __future__ import annotations

import uuid

from mantle import rundir
from mantle.db.models import SqlRun, SqlRunTask
from mantle.runs.states import RunStatus
from mantle.runs.transitions import move
from mantle.storage import open_object_store


def _launch(lab, **body):
    return lab.launch(inputs={"datasets": [lab.pair(f"S{uuid.uuid4().hex[:6]}")["id"]]}, **body)


def test_cancel_stops_head_and_task_jobs(lab, executor, database):
    run = _launch(lab)
    with database.session() as s:
        s.add_all([
            SqlRunTask(run_id=uuid.UUID(run["id"]), task_id=1, tenant_id=uuid.UUID(lab.tenant_id),
                       native_id="task-a"),
            SqlRunTask(run_id=uuid.UUID(run["id"]), task_id=2, tenant_id=uuid.UUID(lab.tenant_id),
                       native_id="-"),
        ])  # fmt: skip
    done = lab.ok("POST", f"/runs/{run['short_id']}/cancel", json={"reason": "wrong genome"})
    assert done["status"] == "CANCELLED"
    assert done["status_reason"] == "cancelled by alice@example.com: wrong genome"
    assert executor.cancels == [("job-1", ("task-a",))]
    # Again: answered as it is, nothing more is cancelled.
    assert lab.ok("POST", f"/runs/{run['id']}/cancel")["status"] == "CANCELLED"
    assert len(executor.cancels) == 1


def test_cancel_of_a_finished_run_is_a_conflict(lab, database):
    run = _launch(lab)
    with database.session() as s:
        move(s, s.get(SqlRun, uuid.UUID(run["id"])), RunStatus.succeeded)
    response = lab.request("POST", f"/runs/{run['id']}/cancel")
    assert response.status_code == 409 and "already ended" in response.text


def test_cancel_roles(lab, factory, executor):
    bob = factory.member("acme", "bob@example.com", "member")
    vera = factory.member("acme", "vera@example.com", "viewer")
    admin = factory.member("acme", "ada@example.com", "admin")
    alices = _launch(lab)
    assert lab.request("POST", f"/runs/{alices['id']}/cancel", as_=vera).status_code == 403
    response = lab.request("POST", f"/runs/{alices['id']}/cancel", as_=bob)
    assert response.status_code == 403 and "alice@example.com" in response.text
    bobs = lab.ok("POST", "/runs", 201, as_=bob, json={
        "pipeline": "fastq-stats", "inputs": {"datasets": alices["inputs"]}})  # fmt: skip
    assert lab.ok("POST", f"/runs/{bobs['id']}/cancel", as_=bob)["status"] == "CANCELLED"
    assert lab.ok("POST", f"/runs/{alices['id']}/cancel", as_=admin)["status"] == "CANCELLED"
    # Viewers read but do not launch.
    assert lab.request("GET", f"/runs/{alices['id']}", as_=vera).status_code == 200
    body = {"pipeline": "fastq-stats", "inputs": {"datasets": alices["inputs"]}}
    assert lab.request("POST", "/runs", as_=vera, json=body).status_code == 403


def test_a_queued_run_is_cancelled_without_the_executor(lab, executor):
    from mantle.errors import CloudError

    executor.fail_with = CloudError("throttled", retryable=True)
    run = _launch(lab)
    assert run["status"] == "QUEUED"
    assert lab.ok("POST", f"/runs/{run['id']}/cancel")["status"] == "CANCELLED"
    assert executor.cancels == []


def test_relaunch_makes_a_new_run_with_the_same_inputs(lab, executor, database):
    first = _launch(lab, params={"genome": "GRCm39"}, labels=["x"])
    again = lab.ok("POST", f"/runs/{first['id']}/relaunch", 201, json={})
    assert again["id"] != first["id"] and again["relaunch_of"] == first["id"]
    assert again["inputs"] == first["inputs"] and again["labels"] == ["x"]
    assert again["params"]["genome"] == "GRCm39"
    assert again["params"]["outdir"] == again["run_dir"] + "outputs/"
    assert again["work_dir"] != first["work_dir"] and len(executor.submits) == 2
    key = {"idempotency_key": "again-1"}
    third = lab.ok("POST", f"/runs/{first['id']}/relaunch", 201, json=key)
    assert lab.ok("POST", f"/runs/{first['id']}/relaunch", 201, json=key)["id"] == third["id"]


def test_resume_reuses_work_dir_and_session(lab, database):
    first = _launch(lab)
    response = lab.request("POST", f"/runs/{first['id']}/resume")
    assert response.status_code == 409 and "FAILED or CANCELLED" in response.text
    lab.ok("POST", f"/runs/{first['id']}/cancel")
    with database.session() as s:  # Nextflow's own session, as the monitor records it
        original = s.get(SqlRun, uuid.UUID(first["id"]))
        assert original.session_id == ""  # nothing made up at launch
        original.session_id = "d0a60572-076e-451a-b10e-16059ed77e36"
    resumed = lab.ok("POST", f"/runs/{first['id']}/resume", 201, json={"params": {"x": 1}})
    assert resumed["resume_of"] == first["id"] and resumed["work_dir"] == first["work_dir"]
    assert resumed["params"]["x"] == 1 and resumed["params"]["genome"] == first["params"]["genome"]
    spec = rundir.RunSpec.model_validate_json(
        open_object_store(resumed["run_dir"]).read_bytes(rundir.RUN_JSON)
    )
    assert spec.resume and spec.session_id == "d0a60572-076e-451a-b10e-16059ed77e36"
    config = open_object_store(resumed["run_dir"]).read_bytes(rundir.NEXTFLOW_CONFIG).decode()
    assert f"workDir = '{first['work_dir']}'" in config


def test_script_runs_cannot_be_resumed(lab):
    ds = lab.pair("S1")
    run = lab.launch(pipeline="fastq-stats", inputs={"datasets": [ds["id"]]})
    lab.ok("POST", f"/runs/{run['id']}/cancel")
    response = lab.request("POST", f"/runs/{run['id']}/resume")
    assert response.status_code == 409 and "only Nextflow runs" in response.text


def test_a_run_cancelled_while_it_was_submitted_has_its_new_job_stopped(lab, executor, database):
    def cancel_meanwhile(job):
        with database.session() as s:
            move(s, s.get(SqlRun, job.run_id), RunStatus.cancelled, "cancelled by someone")

    executor.on_submit = cancel_meanwhile
    run = _launch(lab)
    assert run["status"] == "CANCELLED" and run["external_id"] == "job-1"
    assert executor.cancels == [("job-1", ())]
