"""The weblog endpoint: the per-run secret is the only credential, a wrong one looks like an
unknown run, a finished run takes no more events, and the secret never shows in a log line
or a response."""

from __future__ import annotations

import logging
import secrets

import pytest
from sqlalchemy import select

from mantle.api.access_log import redact_target
from mantle.db.models import SqlRun, SqlRunTask
from mantle.runs.events import secret_digest
from mantle.runs.states import RunStatus
from tests.runs_monitor.test_tasks_trace import event


@pytest.fixture
def weblog(lab, api):

    def run_with_secret(slug="lab", status=RunStatus.submitted):
        secret = secrets.token_urlsafe(32)
        run = lab.run(slug, status=status, events_secret_hash=secret_digest(secret))
        return run, secret

    return run_with_secret


def post(api, run_id, token, payload):
    return api.post(f"/api/v1/runs/{run_id}/weblog", params={"token": token}, json=payload)


def test_events_update_tasks_and_started_moves_the_run(lab, api, weblog):
    run, secret = weblog()
    assert (
        post(api, run.id, secret, {"event": "started", "runName": "x", "runId": "s"}).status_code
        == 204
    )
    assert lab.get(run).status == "RUNNING"
    assert post(api, run.id, secret, event("process_started")).status_code == 204
    assert post(api, run.id, secret, {"event": "completed", "metadata": {}}).status_code == 204
    with lab.db.session() as s:
        task = s.scalar(select(SqlRunTask).where(SqlRunTask.run_id == run.id))
    assert (task.process, task.status, task.tenant_id) == ("FASTQC", "RUNNING", run.tenant_id)
    row = lab.get(run)
    assert row.status == "RUNNING"  # only the executor and outputs.json end a run
    assert row.next_check_at is not None  # but the monitor looks at once


def test_a_wrong_secret_looks_like_an_unknown_run(lab, api, weblog):
    run, secret = weblog()
    other, other_secret = weblog("other")  # another tenant's run and its secret
    answers = [
        post(api, run.id, "wrong", event("process_started")),
        post(api, run.id, other_secret, event("process_started")),
        post(api, run.id, None, event("process_started")),
        post(api, "00000000-0000-0000-0000-000000000000", secret, event("process_started")),
        post(api, "not-a-uuid", secret, event("process_started")),
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.text for r in answers}) == 1
    with lab.db.session() as s:
        assert s.scalars(select(SqlRunTask)).all() == []
    assert lab.get(other).status == "SUBMITTED"


def test_a_finished_run_takes_no_more_events(lab, api, weblog):
    run, secret = weblog(status=RunStatus.succeeded)
    answer = post(api, run.id, secret, event("process_completed", status="COMPLETED"))
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "gone"
    with lab.db.session() as s:
        s.get(SqlRun, run.id)
        assert s.scalars(select(SqlRunTask)).all() == []


def test_bad_bodies_are_refused(lab, api, weblog):
    run, secret = weblog()
    url = f"/api/v1/runs/{run.id}/weblog"
    big = {"event": "started", "metadata": {"params": "x" * (600 * 1024)}}
    assert api.post(url, params={"token": secret}, json=big).status_code == 413
    not_json = api.post(url, params={"token": secret}, content=b"{nope")
    assert not_json.status_code == 422 and secret not in not_json.text
    assert api.post(url, params={"token": secret}, json=[1, 2]).status_code == 422
    assert (
        api.post(url, params={"token": secret}, json={"event": "x", "trace": 3}).status_code == 422
    )


def test_the_secret_is_not_logged(lab, api, weblog, caplog):
    run, secret = weblog()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("mantle").info("weblog test")  # at least one server-side line
    post(api, run.id, secret, event("process_started"))
    post(api, run.id, secret + "x", event("process_started"))
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # the client's
    assert server_side and all(secret not in r.getMessage() for r in server_side)
    target = f"/api/v1/runs/{run.id}/weblog?token={secret}"
    assert secret not in redact_target(target) and "token=REDACTED" in redact_target(target)


def test_no_session_or_csrf_is_needed_even_when_signed_in(lab, api, weblog, factory):
    run, secret = weblog()
    factory.user("someone@example.com")
    factory.browser_login("someone@example.com")  # a session cookie rides along
    assert (
        post(api, run.id, secret, event("process_submitted", status="SUBMITTED")).status_code == 204
    )
