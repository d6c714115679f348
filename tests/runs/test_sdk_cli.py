"""The SDK's runs and the CLI's run commands, in process against the test app."""

from __future__ import annotations

import json
import time
import types
import uuid

import pytest
from typer.testing import CliRunner

import mantle
from mantle.cli import runs as runs_cli
from mantle.cli.main import app as cli_app
from mantle.client import Client, Run
from mantle.client import _runs as runs_sdk
from mantle.db.models import SqlRun, SqlRunTask
from mantle.errors import ServiceUnavailableError
from mantle.runs.states import RunStatus
from mantle.runs.transitions import move


@pytest.fixture
def sdk(lab):
    with Client("http://testserver", lab.member.token, transport=lab.api._transport) as client:
        yield client


def _finish(database, run_id, status=RunStatus.succeeded) -> None:
    with database.session() as s:
        run = s.get(SqlRun, uuid.UUID(str(run_id)))
        if run.status == "SUBMITTED":
            move(s, run, RunStatus.running)
        move(s, run, status, "" if status == RunStatus.succeeded else "process X exited 1")


def test_sdk_launch_wait_and_read(sdk, lab, database, executor):
    ds = lab.pair("S1")
    run = sdk.runs.launch("rnaseq", params={"genome": "GRCm39"}, inputs=[ds["short_id"]],
                          labels=["sdk"])  # fmt: skip
    assert isinstance(run, Run) and run.status == "SUBMITTED" and run.labels == ["sdk"]
    with database.session() as s:
        s.add(SqlRunTask(run_id=run.id, task_id=1, tenant_id=uuid.UUID(lab.tenant_id),
                         process="FASTQC"))  # fmt: skip
    seen = []

    def on_update(current):
        seen.append(current.status)
        if len(seen) == 1:
            _finish(database, run.id)

    done = run.wait(timeout=10, poll=0.01, on_update=on_update)
    assert done.status == "SUCCEEDED" and seen == ["SUBMITTED", "SUCCEEDED"]
    assert [t.process for t in done.tasks()] == ["FASTQC"]
    assert done.outputs() == []
    assert [t.to_status for t in done.transitions()][-1] == "SUCCEEDED"
    executor.log_lines = ["a", "b"]
    assert done.logs() == ["a", "b"]
    assert [r.short_id for r in sdk.runs.list(status="SUCCEEDED")] == [run.short_id]
    assert sdk.runs.get(run.short_id).refresh().id == run.id
    with pytest.raises(mantle.ConflictError):
        done.cancel()
    again = done.relaunch(params={"min_reads": 3})
    assert again.relaunch_of == run.id and again.params["min_reads"] == 3
    assert again.params["genome"] == "GRCm39"


def test_sdk_wait_times_out(sdk, lab):
    ds = lab.pair("S1")
    run = sdk.runs.launch("fastq-stats", inputs="type=fastq_pair", env="local")
    assert run.inputs == [ds["short_id"]]
    with pytest.raises(TimeoutError, match="still SUBMITTED"):
        run.wait(timeout=0.05, poll=0.01)


def test_sdk_retries_a_launch_with_the_same_key(sdk, lab, executor, monkeypatch):
    ds = lab.pair("S1")
    real = sdk.runs._http.request
    calls = []

    def flaky(method, path, **kwargs):
        if method != "POST":
            return real(method, path, **kwargs)
        calls.append(kwargs.get("json"))
        result = real(method, path, **kwargs)
        if len(calls) == 1:  # the server made the run, the answer got lost
            raise ServiceUnavailableError("connection reset")
        return result

    monkeypatch.setattr(sdk.runs._http, "request", flaky)
    # Only the SDK's own back-off: patching time.sleep for the whole process would make every
    # other thread that sleeps (servers, emulators left by earlier tests) spin.
    no_sleep = types.SimpleNamespace(sleep=lambda _s: None, monotonic=time.monotonic)
    monkeypatch.setattr(runs_sdk, "time", no_sleep)
    run = sdk.runs.launch("rnaseq", inputs=[ds["id"]])
    assert len(calls) == 2 and calls[0]["idempotency_key"] == calls[1]["idempotency_key"]
    assert len(executor.submits) == 1 and run.short_id == "run-1"
    # Relaunch (and resume, the same path) is retried with its key as well: one new run.
    calls.clear()
    again = sdk.runs.relaunch(run.short_id)
    assert len(calls) == 2 and calls[0]["idempotency_key"] == calls[1]["idempotency_key"]
    assert len(executor.submits) == 2 and again.short_id == "run-2"


@pytest.fixture
def cli(sdk, monkeypatch):
    monkeypatch.setattr(runs_cli, "client", lambda: sdk)
    monkeypatch.setattr(type(sdk), "__exit__", lambda *a: None)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli_app, list(args), catch_exceptions=False)

    return invoke


def test_cli_launch_show_list_cancel_wait(cli, lab, tmp_path, database):
    lab.pair("S1")
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"genome": "GRCm39", "min_reads": 5}))
    result = cli("launch", "rnaseq", "--params-file", str(params), "--param", "min_reads=7",
                 "--inputs", "type=fastq_pair,sample=S1", "--label", "cli", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    assert run["params"]["min_reads"] == 7 and run["params"]["genome"] == "GRCm39"
    assert run["labels"] == ["cli"]
    result = cli("runs", "show", run["short_id"])
    assert result.exit_code == 0 and "SUBMITTED" in result.output and "timeline" in result.output
    result = cli("runs", "list", "--status", "submitted")
    assert run["short_id"] in result.output
    assert cli("runs", "cancel", run["short_id"]).exit_code == 0
    result = cli("runs", "wait", run["short_id"], "--poll", "0.01")
    assert result.exit_code == 11 and "CANCELLED" in result.output
    result = cli("runs", "relaunch", run["short_id"], "--json")
    relaunched = json.loads(result.output)
    _finish(database, relaunched["id"])
    assert cli("runs", "wait", relaunched["short_id"], "--poll", "0.01").exit_code == 0
    result = cli("runs", "resume", run["short_id"], "--param", "min_reads=3", "--json")
    resumed = json.loads(result.output)
    assert resumed["resume_of"] == run["id"]
    assert resumed["params"]["min_reads"] == 3 and resumed["params"]["genome"] == "GRCm39"
    assert cli("runs", "tasks", run["short_id"]).exit_code == 0


def test_cli_logs_follow(cli, lab, database, executor, monkeypatch):
    ds = lab.pair("S1")
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    executor.log_lines = ["one", "two"]
    sleeps = []

    def sleep(_s):
        sleeps.append(1)
        executor.log_lines.append("three")
        _finish(database, run["id"])

    monkeypatch.setattr(
        runs_cli, "time", types.SimpleNamespace(sleep=sleep, monotonic=time.monotonic)
    )
    result = cli("runs", "logs", run["short_id"], "--follow")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["one", "two", "three"] and len(sleeps) == 1


def test_cli_bad_param_says_how_to_write_it(cli, lab):
    with pytest.raises(mantle.InvalidInputError, match="NAME=VALUE"):
        cli("launch", "rnaseq", "--param", "novalue")
