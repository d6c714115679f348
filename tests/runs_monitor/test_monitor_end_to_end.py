"""The embedded default end to end: FASTQ pairs uploaded, the built-in `fastq-stats` launched
on the local executor with the real launcher, the monitor following the run to SUCCEEDED,
its outputs datasets in the catalog with lineage inputs -> run -> outputs."""

from __future__ import annotations

import gzip
import time
from datetime import timedelta

import pytest

from mantle.executors.local import LocalExecutor
from mantle.runs.pipeline_port import PlatformPipelines

FASTQ = b"@r1\nACGTGC\n+\nIIIIII\n@r2\nGGCC\n+\nIIII\n"


@pytest.fixture
def member(factory):
    return factory.member("lab", "sci@lab.example", "owner")


@pytest.fixture
def services(app, settings):
    services = app.state.services
    services.runs.pipelines = PlatformPipelines(services)
    executor = LocalExecutor(settings.data_dir / "executors" / "local", grace_seconds=0.5)
    services.executor_factories.register("local", lambda *_: executor)
    return services


def call(api, member, method, path, status=200, **kwargs):
    response = api.request(method, f"/api/v1/tenants/lab{path}", headers=member.headers, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def upload_pair(api, app, member, sample: str, suffix: str = ".fastq") -> dict:
    tenant = call(api, member, "GET", "")
    store = app.state.object_store.scoped(f"tenants/{tenant['id']}/")
    props = {"sample": sample}
    for read in ("read1", "read2"):
        data = gzip.compress(FASTQ) if suffix.endswith(".gz") else FASTQ
        store.put(f"up/{sample}_{read}{suffix}", data)
        props[read] = store.uri(f"up/{sample}_{read}{suffix}")
    body = {"name": sample, "data_type": "fastq_pair", "properties": props}
    return call(api, member, "POST", "/datasets", 201, json=body)


def follow(api, member, services, database, run_id: str) -> dict:
    """Run monitor cycles until the run has ended (or two minutes passed); the run shown."""
    monitor = services.run_monitor(database, worker_id="test-monitor")
    monitor.interval = timedelta(milliseconds=100)
    deadline = time.monotonic() + 120
    while (shown := call(api, member, "GET", f"/runs/{run_id}"))["status"] not in (
        "SUCCEEDED", "FAILED",
    ) and time.monotonic() < deadline:  # fmt: skip
        monitor.cycle()
        time.sleep(0.1)
    return shown


def test_fastq_stats_runs_to_datasets_with_lineage(api, app, database, member, services):
    inputs = [upload_pair(api, app, member, s) for s in ("S1", "S2")]
    run = call(api, member, "POST", "/runs", 201, json={
        "pipeline": "fastq-stats", "inputs": {"datasets": [d["id"] for d in inputs]},
        "name": "stats of two pairs"})  # fmt: skip
    shown = follow(api, member, services, database, run["id"])
    assert shown["status"] == "SUCCEEDED", shown
    # However quickly it ran, the timeline has it running, from when the head job started.
    timeline = call(api, member, "GET", f"/runs/{run['id']}/transitions")
    assert [t["to_status"] for t in timeline] == ["QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED"]
    assert shown["started_at"] and shown["submitted_at"] <= shown["started_at"]
    outputs = call(api, member, "GET", f"/runs/{run['id']}/outputs")
    made = {o["path"]: o for o in outputs}
    assert set(made) >= {"fastq_stats.csv", "fastq_stats.html"}
    assert all(made[p]["dataset_id"] for p in ("fastq_stats.csv", "fastq_stats.html"))
    table = call(api, member, "GET", f"/datasets/{made['fastq_stats.csv']['short_id']}")
    assert table["data_type"] == "table" and table["origin"] == "pipeline_run"
    graph = call(api, member, "GET", f"/datasets/{inputs[0]['short_id']}/lineage",
                 params={"direction": "downstream"})  # fmt: skip
    reached = {n["id"] for n in graph["nodes"]}
    assert {made["fastq_stats.csv"]["short_id"], made["fastq_stats.html"]["short_id"]} <= reached
    activity = next(n for n in graph["nodes"] if n["kind"] == "activity")
    assert activity["activity_kind"] == "pipeline_run"
    assert activity["details"]["run_id"] == run["id"]
    assert activity["details"]["pipeline"] == "fastq-stats"
    # A later cycle finds nothing to do: the outputs are registered once.
    services.run_monitor(database, worker_id="test-monitor").cycle()
    assert len(call(api, member, "GET", f"/runs/{run['id']}/outputs")) == len(outputs)
