"""A Nextflow pipeline end to end on the local executor, with the Nextflow stand-in (the real
`nextflow` when on PATH): weblog events reach the run's endpoint while it runs, the trace
becomes the task table, outputs become datasets by the version's rules, and a failing task
fails the run with the process, exit code and error.

The server's public URL (which run.json's weblog URL starts with) is a small HTTP server on
loopback that hands each request to the app under test, as a reverse proxy would."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from mantle.executors.local import LocalExecutor
from mantle.runs.pipeline_port import PlatformPipelines
from tests.conftest import make_settings
from tests.nextflow_standin import make_pipeline_repo, nextflow_executable
from tests.runs_monitor.test_monitor_end_to_end import call, follow, upload_pair

RULES = [
    {"glob": "star/*.bam", "data_type": "file", "pattern": r"star/(?P<sample>[^/]+)\.bam$",
     "name": "{sample} alignments", "properties": {"sample": "{sample}"}},
    {"glob": "multiqc/multiqc_report.html", "data_type": "report"},
]  # fmt: skip


class _Proxy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.client.post(
            self.path, content=body, headers={"Content-Type": "application/json"}
        )
        self.server.answers.append((self.path.split("?")[0], body, answer.status_code))
        self.send_response(answer.status_code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.answers = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path, migrated_url, proxy):
    host, port = proxy.server_address[:2]
    return make_settings(tmp_path, migrated_url, public_url=f"http://{host}:{port}")


@pytest.fixture
def member(factory, app, proxy):
    proxy.client = TestClient(app)
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


def launch(api, app, member, **params) -> dict:
    inputs = [upload_pair(api, app, member, s, ".fastq.gz")["id"] for s in ("S1", "S2")]
    body = {"pipeline": "demo-rnaseq", "inputs": {"datasets": inputs}, "params": params}
    return call(api, member, "POST", "/runs", 201, json=body)


def test_a_nextflow_run_fills_tasks_and_makes_datasets(api, app, database, member, pipeline,
                                                       services, proxy):  # fmt: skip
    run = launch(api, app, member)
    shown = follow(api, member, services, database, run["id"])
    assert shown["status"] == "SUCCEEDED", shown
    events = [json.loads(body)["event"] for _path, body, _status in proxy.answers]
    assert events[0] == "started" and events.count("process_completed") == 5
    assert {status for *_rest, status in proxy.answers} == {204}
    assert {path for path, *_rest in proxy.answers} == {f"/api/v1/runs/{run['id']}/weblog"}
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
