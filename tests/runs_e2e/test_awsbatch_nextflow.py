"""A Nextflow pipeline on an AWS environment, with the stand-in `nextflow` as Nextflow's
awsbatch executor: the head job (the real launcher) runs the stand-in, which submits each task
as a Batch job to the compute queue; the emulator runs those too. The task table carries the
task jobs' ids (native_id), a failing task job fails the run with its process and exit code
(and its resume in the same S3 work dir and session runs only what is left), and cancelling
mid-run terminates the head job and every task job."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.nextflow_standin import DEFAULT_PROCESSES, STANDIN, make_pipeline_repo
from tests.runs_e2e.conftest import AwsLab

RULES = [
    {"glob": "star/*.bam", "data_type": "file", "pattern": r"star/(?P<sample>[^/]+)\.bam$",
     "name": "{sample} alignments", "properties": {"sample": "{sample}"}},
    {"glob": "multiqc/multiqc_report.html", "data_type": "report"},
]  # fmt: skip
SLOW = [{**DEFAULT_PROCESSES[0], "sleep": 60}, *DEFAULT_PROCESSES[1:]]
ACTIVE = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


@pytest.fixture
def pipeline(aws_lab: AwsLab, tmp_path_factory, monkeypatch):
    """Registers a stand-in pipeline (`processes` as in standin.json); returns its name."""
    monkeypatch.setenv("MANTLE_NEXTFLOW", str(STANDIN))
    # The stand-in's `python3` (its shebang) is this interpreter, which has boto3.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    def register(name: str = "demo-rnaseq", processes=None) -> str:
        # Outside the server's data dir, which Mantle refuses as a repository.
        repo = make_pipeline_repo(tmp_path_factory.mktemp("repos"), processes, name=name)
        body = {"repository": str(repo), "name": name, "output_rules": RULES}
        aws_lab.call("POST", "/pipelines", 201, json=body)
        return name

    return register


def launch(aws_lab: AwsLab, pipeline: str, **params) -> dict:
    inputs = [aws_lab.pair(s, ".fastq.gz")["id"] for s in ("S1", "S2")]
    body = {"pipeline": pipeline, "inputs": {"datasets": inputs}, "params": params,
            "environment": "prod"}  # fmt: skip
    return aws_lab.call("POST", "/runs", 201, json=body)


def task_jobs(emulator) -> list:
    return [j for j in emulator.state.jobs.values()
            if j.detail["jobQueue"].endswith("/mantle-compute")]  # fmt: skip


def test_tasks_run_as_batch_jobs(aws_lab, batch_emulator, pipeline):
    run = launch(aws_lab, pipeline())
    shown = aws_lab.follow(run["id"])
    head = batch_emulator.job(run["external_id"])
    assert shown["status"] == "SUCCEEDED", (shown, head.output[-20:])
    jobs = {j.job_id: j for j in task_jobs(batch_emulator)}
    assert len(jobs) == 5 and {j.status for j in jobs.values()} == {"SUCCEEDED"}
    tasks = aws_lab.call("GET", f"/runs/{run['id']}/tasks")["items"]
    assert {t["native_id"] for t in tasks} == set(jobs)  # each task is its Batch job
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    named = {j.detail["jobName"] for j in jobs.values()}
    assert {"nf-STAR_ALIGN_S1", "nf-MULTIQC"} <= named
    outputs = {o["path"]: o for o in aws_lab.call("GET", f"/runs/{run['id']}/outputs")}
    assert outputs["star/S2.bam"]["name"] == "S2 alignments" and outputs["star/S2.bam"]["short_id"]
    stored = aws_lab.objects(f"mantle/runs/{run['id']}/outputs/")
    assert {"star/S1.bam", "star/S2.bam", "multiqc/multiqc_report.html"} <= stored


def test_a_failing_task_job_fails_the_run_then_resume_runs_only_what_is_left(
    aws_lab, batch_emulator, pipeline
):  # fmt: skip
    run = launch(aws_lab, pipeline(), fail_process="STAR_ALIGN", fail_sample="S2", fail_exit=3)
    shown = aws_lab.follow(run["id"])
    assert shown["status"] == "FAILED"
    assert shown["status_reason"] == (
        "process STAR_ALIGN (S2) failed with exit code 3: standin: STAR_ALIGN failed on demand"
    )
    failed = [j for j in task_jobs(batch_emulator) if j.status == "FAILED"]
    assert [j.detail["jobName"] for j in failed] == ["nf-STAR_ALIGN_S2"]
    assert failed[0].detail["container"]["exitCode"] == 3
    task = next(t for t in aws_lab.call("GET", f"/runs/{run['id']}/tasks")["items"]
                if t["status"] == "FAILED")  # fmt: skip
    assert task["native_id"] == failed[0].job_id and task["exit_code"] == 3
    # Fixed and resumed: the same S3 work dir and Nextflow session, done tasks CACHED.
    before = set(batch_emulator.state.jobs)
    body = {"params": {"fail_process": ""}}
    resumed = aws_lab.call("POST", f"/runs/{run['id']}/resume", 201, json=body)
    assert resumed["work_dir"] == run["work_dir"]
    assert aws_lab.follow(resumed["id"])["status"] == "SUCCEEDED"
    tasks = aws_lab.call("GET", f"/runs/{resumed['id']}/tasks")["items"]
    assert sorted(t["status"] for t in tasks) == ["CACHED"] * 3 + ["COMPLETED"] * 2
    new_jobs = [batch_emulator.job(j) for j in set(batch_emulator.state.jobs) - before]
    assert sorted(j.detail["jobName"] for j in new_jobs if j.job_id != resumed["external_id"]) == [
        "nf-MULTIQC", "nf-STAR_ALIGN_S2",
    ]  # fmt: skip


def test_cancel_mid_run_terminates_head_and_task_jobs(aws_lab, batch_emulator, pipeline):
    run = launch(aws_lab, pipeline("slow-rnaseq", SLOW))
    deadline = time.monotonic() + 20
    while True:  # both FASTQC jobs running, and known to the platform by their weblog events
        running = {j.job_id for j in task_jobs(batch_emulator) if j.status == "RUNNING"}
        tasks = aws_lab.call("GET", f"/runs/{run['id']}/tasks")["items"]
        if len(running) == 2 and running <= {t["native_id"] for t in tasks}:
            break
        assert time.monotonic() < deadline, (running, tasks)
        time.sleep(0.05)
    body = {"reason": "wrong genome"}
    shown = aws_lab.call("POST", f"/runs/{run['id']}/cancel", json=body)
    assert shown["status"] == "CANCELLED"
    assert shown["status_reason"] == "cancelled by sci@lab.example: wrong genome"
    for job_id in [run["external_id"], *running]:
        detail = batch_emulator.wait_for(job_id, timeout=10)
        job = batch_emulator.job(job_id)
        assert detail["status"] == "FAILED" and detail.get("isTerminated"), job_id
        assert job.terminate_reason == "cancelled by sci@lab.example: wrong genome"
    assert not [j for j in batch_emulator.state.jobs.values() if j.status in ACTIVE]
