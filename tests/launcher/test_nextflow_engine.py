"""The launcher with the Nextflow engine on a local (file://) run directory, end to end:
`python -m mantle.launcher` checks the pipeline out, runs Nextflow (the stand-in unless the
real one is on PATH) and writes outputs.json; and the failure paths a user sees."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mantle.launcher.nextflow import nextflow_command, run_name
from tests.launcher.conftest import (
    launch_here,
    nextflow_pipeline,
    run_launcher,
    session_id,
    write_run,
)
from tests.nextflow_standin import make_pipeline_repo

EXPECTED_OUTPUTS = {
    "fastqc/s1_fastqc.html", "fastqc/s1_fastqc.zip", "fastqc/s2_fastqc.html",
    "fastqc/s2_fastqc.zip", "star/s1.bam", "star/s1.Log.final.out", "star/s2.bam",
    "star/s2.Log.final.out", "multiqc/multiqc_report.html",
}  # fmt: skip


def test_a_run_publishes_its_outputs_and_lists_every_file_in_outputs_json(
    store, pipeline_repo, env, tmp_path
):
    run = write_run(store, nextflow_pipeline(pipeline_repo), work_dir=(tmp_path / "work").as_uri())

    done = run_launcher(run.url, env)

    assert done.returncode == 0, done.stdout + done.stderr
    manifest = run.manifest()
    assert manifest.exit_code == 0
    assert manifest.run_id == run.spec.run_id
    assert {f.path for f in manifest.files} == EXPECTED_OUTPUTS
    for listed in manifest.files:
        data = run.store.read_bytes(f"outputs/{listed.path}")
        assert listed.size == len(data)
        assert listed.checksum == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert b"s1" in run.store.read_bytes("outputs/star/s1.bam")
    tasks = run.trace()
    assert len(tasks) == 5
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    assert {t["process"] for t in tasks} == {"FASTQC", "STAR_ALIGN", "MULTIQC"}
    log = run.log()
    assert "Submitted process > STAR_ALIGN (s1)" in log  # the engine's output is in the log
    assert "launcher: error" not in log
    assert "Submitted process > STAR_ALIGN (s1)" in done.stdout  # and echoed (CloudWatch)
    assert run_name(run.spec) in log
    # written through the platform's own store: no store internals inside the run directory
    assert not (store.root / "runs" / run.spec.run_id / ".mantle").exists()


def test_a_failing_task_fails_the_run_with_nextflows_error_in_the_log_tail(
    store, pipeline_repo, env, tmp_path
):
    run = write_run(
        store,
        nextflow_pipeline(pipeline_repo),
        work_dir=(tmp_path / "work").as_uri(),
        params={"fail_process": "STAR_ALIGN", "fail_sample": "s1"},
    )

    assert launch_here(run.url) == 1
    tail = "\n".join(run.log_tail())
    assert "ERROR ~ Error executing process > 'STAR_ALIGN (s1)'" in run.log()
    assert run.log_tail()[-1] == (
        "launcher: nextflow failed with exit code 1: "
        "Error executing process > 'STAR_ALIGN (s1)' (exit status 1)"
    )
    assert "terminated with an error exit status (1)" in tail
    assert "launcher: error" not in run.log()  # the engine failed, not the launcher
    manifest = run.manifest()
    assert manifest.exit_code == 1
    assert "fastqc/s1_fastqc.html" in {f.path for f in manifest.files}  # published before
    failed = [t for t in run.trace() if t["status"] == "FAILED"]
    assert [(t["name"], t["exit"]) for t in failed] == [("STAR_ALIGN (s1)", "1")]


def test_resume_continues_the_session_and_skips_cached_tasks(store, pipeline_repo, env, tmp_path):
    work = (tmp_path / "work").as_uri()
    pipeline = nextflow_pipeline(pipeline_repo)
    first = write_run(store, pipeline, work_dir=work, params={"fail_process": "MULTIQC"})
    assert launch_here(first.url) == 1

    session = session_id(first.log())
    again = write_run(store, pipeline, work_dir=work, resume=True, session_id=session)
    assert launch_here(again.url) == 0, again.log()
    status = {t["name"]: t["status"] for t in again.trace()}
    assert status == {
        "FASTQC (s1)": "CACHED", "FASTQC (s2)": "CACHED", "STAR_ALIGN (s1)": "CACHED",
        "STAR_ALIGN (s2)": "CACHED", "MULTIQC": "COMPLETED",
    }  # fmt: skip
    assert f"-resume {session}" in again.log()
    assert {f.path for f in again.manifest().files} == EXPECTED_OUTPUTS
    assert session_id(again.log()) == session


class _Collector(BaseHTTPRequestHandler):
    events: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).events.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def weblog():
    handler = type("Handler", (_Collector,), {"events": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1/runs/x/events?secret=s3cr3t", handler
    finally:
        server.shutdown()
        server.server_close()


def test_weblog_events_reach_the_runs_endpoint_in_nextflows_shape(
    store, pipeline_repo, env, tmp_path, weblog
):
    url, handler = weblog
    run = write_run(
        store, nextflow_pipeline(pipeline_repo), work_dir=(tmp_path / "w").as_uri(), weblog_url=url
    )

    assert launch_here(run.url) == 0

    events = handler.events
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert kinds.count("process_submitted") == kinds.count("process_completed") == 5
    assert {e["runName"] for e in events} == {run_name(run.spec)}
    assert len({e["runId"] for e in events}) == 1
    assert events[0]["metadata"]["parameters"]["outdir"] == str(
        store.root / "runs" / run.spec.run_id / "outputs"
    )
    assert events[0]["metadata"]["workflow"]["runName"] == run_name(run.spec)
    assert events[-1]["metadata"]["workflow"]["success"] is True
    completed = next(e for e in events if e["event"] == "process_completed")
    trace = completed["trace"]
    assert {"task_id", "hash", "name", "process", "status", "exit", "submit", "workdir"} <= set(
        trace
    )
    assert trace["status"] == "COMPLETED" and trace["exit"] == 0
    assert all(e["utcTime"].endswith("Z") for e in events)
    assert "s3cr3t" not in run.log()  # the events secret is never logged


def test_sigterm_is_passed_to_nextflow_which_stops(store, env, tmp_path):
    slow = [{"name": "SLOW", "per_sample": True, "sleep": 30, "publish": {"slow/{sample}": "x"}}]
    repo = make_pipeline_repo(tmp_path, slow)
    run = write_run(store, nextflow_pipeline(repo), work_dir=(tmp_path / "work").as_uri())
    launcher = subprocess.Popen(
        [sys.executable, "-m", "mantle.launcher", run.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 15
    while "Submitted process > SLOW" not in _log_or_empty(run):
        assert time.monotonic() < deadline, "the engine never started its task"
        time.sleep(0.05)

    started = time.monotonic()
    launcher.send_signal(signal.SIGTERM)
    code = launcher.wait(timeout=15)

    assert code != 0
    assert time.monotonic() - started < 10  # stopped, not slept out
    log = run.log()
    assert "received SIGTERM; passing it to the engine" in log
    assert "Execution aborted by SIGTERM" in log
    assert run.manifest().exit_code == code
    assert [t["status"] for t in run.trace()] == ["ABORTED"]


def _log_or_empty(run) -> str:
    try:
        return run.log()
    except Exception:  # noqa: BLE001 - not written yet
        return ""


def test_the_command_line_follows_the_run_spec(store, pipeline_repo, tmp_path):
    run = write_run(
        store,
        nextflow_pipeline(pipeline_repo),
        work_dir="s3://bucket/work/",
        weblog_url="http://mantle/events",
        resume=True,
        session_id="d0a60572-076e-451a-b10e-16059ed77e36",
    )
    argv = nextflow_command(
        "nextflow",
        run.spec,
        pipeline=tmp_path / "main.nf",
        params_file=tmp_path / "params.json",
        config_file=tmp_path / "nextflow.config",
        trace_file=tmp_path / "trace.tsv",
    )
    assert argv[:3] == ["nextflow", "run", str(tmp_path / "main.nf")]
    joined = " ".join(argv)
    assert f"-params-file {tmp_path / 'params.json'}" in joined
    assert f"-c {tmp_path / 'nextflow.config'}" in joined
    assert f"-with-trace {tmp_path / 'trace.tsv'}" in joined
    assert "-w s3://bucket/work/" in joined
    assert "-with-weblog http://mantle/events" in joined
    assert "-resume d0a60572-076e-451a-b10e-16059ed77e36" in joined
    assert "-ansi-log false" in joined
    assert argv[-2:] == ["--outdir", str(store.root / "runs" / run.spec.run_id / "outputs")]
    assert f"-name {run_name(run.spec)}" in joined
