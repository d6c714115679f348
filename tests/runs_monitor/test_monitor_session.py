"""Nextflow's session id reaches the run (for `-resume`) however the run ends: from the
weblog's `started` event (`runId`), and from outputs.json, which the launcher writes on
success and on failure; an id that is not a UUID is ignored."""

from __future__ import annotations

import secrets

from mantle.executors.base import JobStatus
from mantle.rundir import OutputsManifest, dumps
from mantle.runs.events import secret_digest
from mantle.runs.states import RunStatus
from tests.runs_monitor.test_weblog_endpoint import post

SESSION = "5f0c8a52-1b7e-4c49-9d0e-4b0f3d5c2a11"


def test_the_started_event_records_the_session(lab, api):
    secret = secrets.token_urlsafe(32)
    run = lab.run(events_secret_hash=secret_digest(secret))
    assert lab.get(run).session_id == ""  # nothing made up at launch
    post(api, run.id, secret, {"event": "started", "runName": "x", "runId": "not a uuid"})
    assert lab.get(run).session_id == ""
    answer = post(api, run.id, secret, {"event": "started", "runName": "x", "runId": SESSION})
    assert answer.status_code == 204 and lab.get(run).session_id == SESSION


def test_outputs_json_records_the_session_on_success(lab):
    run = lab.run(status=RunStatus.running)
    manifest = lab.finish_outputs(run, ["multiqc/multiqc_report.html"])
    lab.write(run, "outputs.json", dumps(manifest.model_copy(update={"session_id": SESSION})))
    lab.executor().set(run.external_id, JobStatus.succeeded, exit_code=0)
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "SUCCEEDED" and row.session_id == SESSION


def test_outputs_json_records_the_session_when_the_engine_failed(lab):
    run = lab.run(status=RunStatus.running)
    failed = OutputsManifest(run_id=str(run.id), exit_code=1, session_id=SESSION)
    lab.write(run, "outputs.json", dumps(failed))
    lab.executor().set(run.external_id, JobStatus.failed, "Essential container exited", 1)
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "FAILED" and row.session_id == SESSION
