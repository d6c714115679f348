"""A Nextflow pipeline end to end on the local executor, with the Nextflow stand-in (the real
`nextflow` when on PATH): the trace becomes the task table, outputs become datasets by the
version's rules, and a failing task fails the run with the process, exit code and error."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from mantle.executors.local import LocalExecutor
from mantle.runs.pipeline_port import PlatformPipelines
from tests.nextflow_standin import make_pipeline_repo, nextflow_executable
from tests.runs_monitor.test_monitor_end_to_end import call, upload_pair

RULES = [
    {"glob": "star/*.bam", "data_type": "file", "pattern": r"star/(?P<sample>[^/]+)\.bam$",
     "name": "{sample} alignments", "properties": {"sample": "{sample}"}},
    {"glob": "multiqc/multiqc_report.html", "data_type": "report"},
]  # fmt: skip


@pytest.fixture
def member(factory):
    return factory.member("lab", "sci@lab.example", "owner")


@pytest.fixture
def pipeline(api, member, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MANTLE_NEXTFLOW", nextflow_executable())
    monkeypatch.setenv("MANTLE_LAUNCHER_SYNC_SECONDS", "0.2")
    repo = make_pipeline_repo(tmp_path_factory.mktemp("repos"))  # outside the data dir
    body = {"repository": str(repo), "name": "demo-rnaseq", "output_rules": RULES}
    return call(api, member, "POST", "/pipelines", 201, json=body)


@pytest.fixture
def services(app, settings):
    services = app.state.services
    services.runs.pipelines = PlatformPipelines(services)
    executor = LocalExecutor(settings.data_dir / "executors" / "local", grace_seconds=0.5)
    services.executor_factories.register("local", lambda *_: executor)
    return services


def follow(api, member, services, database, run_id: str) -> dict:
    monitor = services.run_monitor(database, worker_id="test-monitor")
    monitor.interval = timedelta(milliseconds=100)
    deadline = time.monotonic() + 120
    while (shown := call(api, member, "GET", f"/runs/{run_id}"))["status"] not in (
        "SUCCEEDED", "FAILED",
    ) and time.monotonic() < deadline:  # fmt: skip
        monitor.cycle()
        time.sleep(0.1)
    return shown


def launch(api, app, member, **params) -> dict:
    inputs = [upload_pair(api, app, member, s, ".fastq.gz")["id"] for s in ("S1", "S2")]
    body = {"pipeline": "demo-rnaseq", "inputs": {"datasets": inputs}, "params": params}
    return call(api, member, "POST", "/runs", 201, json=body)


def test_a_nextflow_run_fills_tasks_and_makes_datasets(api, app, database, member, pipeline,
                                                       services):  # fmt: skip
    run = launch(api, app, member)
    shown = follow(api, member, services, database, run["id"])
    assert shown["status"] == "SUCCEEDED", shown
    tasks = call(api, member, "GET", f"/runs/{run['id']}/tasks")["items"]
    assert sorted((t["process"], t["tag"]) for t in tasks) == [
        ("FASTQC", "S1"), ("FASTQC", "S2"), ("MULTIQC", ""), ("STAR_ALIGN", "S1"),
        ("STAR_ALIGN", "S2"),
    ]  # fmt: skip
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    assert all(t["exit_code"] == 0 and t["native_id"] and t["completed_at"] for t in tasks)
    outputs = {o["path"]: o for o in call(api, member, "GET", f"/runs/{run['id']}/outputs")}
    assert outputs["star/S1.bam"]["name"] == "S1 alignments"
    assert outputs["multiqc/multiqc_report.html"]["short_id"]
    assert outputs["fastqc/S1_fastqc.zip"]["dataset_id"] is None  # no rule: listed only
    bam = call(api, member, "GET", f"/datasets/{outputs['star/S2.bam']['short_id']}")
    assert bam["properties"]["sample"] == "S2" and bam["origin"] == "pipeline_run"


def test_a_failing_task_fails_the_run_with_its_process_and_error(api, app, database, member,
                                                                 pipeline, services):  # fmt: skip
    run = launch(api, app, member, fail_process="STAR_ALIGN", fail_sample="S2", fail_exit=3)
    shown = follow(api, member, services, database, run["id"])
    assert shown["status"] == "FAILED"
    assert shown["status_reason"] == (
        "process STAR_ALIGN (S2) failed with exit code 3: standin: STAR_ALIGN failed on demand"
    )
    assert call(api, member, "GET", f"/runs/{run['id']}/outputs") == []
