"""Reading runs: list with filters and cursor pages, tasks, logs (executor and launcher.log),
outputs; and another tenant's run is 404 on every route."""

from __future__ import annotations

import uuid

import pytest

from mantle import rundir
from mantle.db.models import SqlRunOutput, SqlRunTask
from mantle.storage import open_object_store
from tests.runs.conftest import make_lab


@pytest.fixture
def ds(lab) -> dict:
    return lab.pair("S1")


def test_list_filters_and_pages(lab, ds, factory):
    bob = factory.member("acme", "bob@example.com", "member")
    inputs = {"datasets": [ds["id"]]}
    a = lab.launch(inputs=inputs, labels=["project=X"])
    b = lab.launch(pipeline="fastq-stats", inputs=inputs)
    c = lab.ok("POST", "/runs", 201, as_=bob, json={"pipeline": "fastq-stats", "inputs": inputs})
    lab.ok("POST", f"/runs/{b['id']}/cancel")

    def ids(query: str = "") -> list[str]:
        return [r["short_id"] for r in lab.ok("GET", f"/runs{query}")["items"]]

    assert ids() == [c["short_id"], b["short_id"], a["short_id"]]
    assert ids("?status=CANCELLED") == [b["short_id"]]
    assert ids("?status=SUBMITTED&status=CANCELLED") == ids()
    assert ids("?pipeline=rnaseq") == [a["short_id"]]
    assert ids("?created_by=bob@example.com") == [c["short_id"]]
    assert ids("?label=project=X") == [a["short_id"]]
    assert ids("?since=2999-01-01T00:00:00Z") == []
    assert ids("?until=2999-01-01T00:00:00Z") == ids()
    first = lab.ok("GET", "/runs?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = lab.ok("GET", f"/runs?limit=2&cursor={first['next_cursor']}")
    assert [r["short_id"] for r in rest["items"]] == [a["short_id"]] and not rest["next_cursor"]
    assert lab.request("GET", "/runs?cursor=zzz").status_code == 422
    assert lab.request("GET", "/runs?status=DONE").status_code == 422


def test_show_by_short_id_or_uuid(lab, ds):
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    assert lab.ok("GET", f"/runs/{run['short_id'].upper()}")["id"] == run["id"]
    assert lab.ok("GET", f"/runs/{run['id']}")["pipeline"] == "rnaseq"
    assert lab.request("GET", "/runs/run-99").status_code == 404
    assert lab.request("GET", "/runs/nonsense").status_code == 404


def test_tasks_are_paged_in_task_order(lab, ds, database):
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    with database.session() as s:
        for task_id in (3, 1, 2):
            s.add(SqlRunTask(run_id=uuid.UUID(run["id"]), task_id=task_id,
                             tenant_id=uuid.UUID(lab.tenant_id), process="FASTQC",
                             status="COMPLETED", exit_code=0))  # fmt: skip
    page = lab.ok("GET", f"/runs/{run['id']}/tasks?limit=2")
    assert [t["task_id"] for t in page["items"]] == [1, 2] and page["next_cursor"] == "2"
    rest = lab.ok("GET", f"/runs/{run['id']}/tasks?cursor=2")
    assert [t["task_id"] for t in rest["items"]] == [3] and rest["next_cursor"] is None
    assert rest["items"][0]["process"] == "FASTQC"


def test_logs_from_the_executor_and_the_launcher(lab, ds, executor):
    executor.log_lines = ["starting", "running FASTQC", "done"]
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    page = lab.ok("GET", f"/runs/{run['id']}/logs?limit=2")
    assert [ln["message"] for ln in page["lines"]] == ["starting", "running FASTQC"]
    rest = lab.ok("GET", f"/runs/{run['id']}/logs?cursor={page['cursor']}")
    assert [ln["message"] for ln in rest["lines"]] == ["done"]

    empty = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher")
    assert empty["lines"] == [] and empty["cursor"] is None
    store = open_object_store(run["run_dir"])
    store.put(rundir.LAUNCHER_LOG, b"line one\nline two\npartial")
    page = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher")
    assert [ln["message"] for ln in page["lines"]] == ["line one", "line two"]
    store.put(rundir.LAUNCHER_LOG, b"line one\nline two\npartial line\n")
    rest = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher&cursor={page['cursor']}")
    assert [ln["message"] for ln in rest["lines"]] == ["partial line"]
    again = lab.ok("GET", f"/runs/{run['id']}/logs?source=launcher&cursor={rest['cursor']}")
    assert again["lines"] == [] and again["cursor"] == rest["cursor"]


def test_outputs_list_ingested_datasets(lab, ds, database):
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    assert lab.ok("GET", f"/runs/{run['id']}/outputs") == []
    with database.session() as s:
        s.add(SqlRunOutput(run_id=uuid.UUID(run["id"]), path="stats/S1.json",
                           dataset_id=uuid.UUID(ds["id"])))  # fmt: skip
    (out,) = lab.ok("GET", f"/runs/{run['id']}/outputs")
    assert out == {"path": "stats/S1.json", "dataset_id": ds["id"], "short_id": ds["short_id"],
                   "name": "S1 reads"}  # fmt: skip


def test_another_tenants_run_is_not_found_anywhere(lab, ds, factory, api, database):
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    other = make_lab(factory, api, database, "globex", "gary@example.com")
    for ref in (run["id"], run["short_id"]):
        for method, path in [
            ("GET", ""), ("GET", "/transitions"), ("GET", "/tasks"), ("GET", "/logs"),
            ("GET", "/logs?source=launcher"), ("GET", "/outputs"), ("POST", "/cancel"),
            ("POST", "/relaunch"), ("POST", "/resume"),
        ]:  # fmt: skip
            response = other.request(method, f"/runs/{ref}{path}")
            assert response.status_code == 404, (method, path, response.text)
    # run-1 of globex is globex's own (none yet), never acme's.
    assert other.ok("GET", "/runs")["items"] == []
    # And a member of acme cannot reach globex's runs list by its slug.
    assert lab.request("GET", "/runs").status_code == 200
    response = api.get("/api/v1/tenants/globex/runs", headers=lab.member.headers)
    assert response.status_code == 404
