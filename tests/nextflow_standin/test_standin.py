"""The stand-in keeps Nextflow's contract where the launcher's tests do not look: its CLI,
cache rules, and weblog posts that fail without failing the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.batch_emulator import running_emulator
from tests.nextflow_standin import STANDIN, make_pipeline_repo, write_samplesheet

ONE = [{"name": "COUNT", "per_sample": True, "publish": {"counts/{sample}.txt": "{sample}"}}]


def nextflow(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(STANDIN), *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False,
        env=env,
    )  # fmt: skip


def test_version_and_unknown_options(tmp_path):
    assert "24.10" in nextflow("-version", cwd=tmp_path).stdout
    refused = nextflow("run", ".", "-bogus", cwd=tmp_path)
    assert refused.returncode == 1 and "Unknown option: -bogus" in refused.stdout


def test_a_run_publishes_traces_and_survives_an_unreachable_weblog(tmp_path):
    repo = make_pipeline_repo(tmp_path, ONE)
    sheet = write_samplesheet(tmp_path / "s.csv", {"a": ("a1", "a2"), "b": ("b1", "b2")})
    done = nextflow(
        "run", str(repo), "--input", str(sheet), "--outdir", str(tmp_path / "out"),
        "-with-trace", "t.tsv", "-with-weblog", "http://127.0.0.1:9/nowhere", "-name", "x-1",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "out" / "counts" / "b.txt").read_text() == "b"
    lines = (tmp_path / "t.tsv").read_text().splitlines()
    assert lines[0].startswith("task_id\thash\tnative_id\tname\tstatus\texit\tsubmit")
    assert len(lines) == 3
    task_dirs = [p.parent for p in (tmp_path / "work").rglob(".exitcode")]
    assert len(task_dirs) == 2
    assert all((d / ".command.log").exists() for d in task_dirs)


def test_resume_reuses_only_its_own_session(tmp_path):
    repo = make_pipeline_repo(tmp_path, ONE)
    sheet = write_samplesheet(tmp_path / "s.csv", {"a": ("a1", "a2")})
    common = ["run", str(repo), "--input", str(sheet), "--outdir", "out", "-with-trace", "t.tsv"]
    assert nextflow(*common, cwd=tmp_path).returncode == 0
    other = "0a1f1589-bd0e-4cfc-b688-34a03810735e"

    assert nextflow(*common, "-resume", other, cwd=tmp_path).returncode == 0
    assert (tmp_path / "t.tsv").read_text().splitlines()[1].split("\t")[4] == "COMPLETED"
    assert nextflow(*common, "-resume", other, cwd=tmp_path).returncode == 0
    assert (tmp_path / "t.tsv").read_text().splitlines()[1].split("\t")[4] == "CACHED"


def test_the_repository_is_an_nf_core_like_pipeline(tmp_path):
    repo = make_pipeline_repo(tmp_path)
    schema = json.loads((repo / "nextflow_schema.json").read_text())
    io = schema["definitions"]["input_output_options"]["properties"]
    assert io["input"]["schema"] == "assets/schema_input.json"
    assert io["input"]["mimetype"] == "text/csv"
    assert (repo / "assets" / "schema_input.json").exists()
    assert "process STAR_ALIGN" in (repo / "main.nf").read_text()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""  # everything committed


def test_the_awsbatch_executor_runs_each_task_as_a_batch_job(tmp_path):
    repo = make_pipeline_repo(tmp_path, ONE)
    sheet = write_samplesheet(tmp_path / "s.csv", {"a": ("a1", "a2"), "b": ("b1", "b2")})
    config = tmp_path / "batch.config"
    config.write_text("process.executor = 'awsbatch'\nprocess.queue = 'mantle-compute'\n")
    with running_emulator(step_seconds=0.01) as emulator:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL_BATCH": emulator.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        done = nextflow(
            "run", str(repo), "--input", str(sheet), "--outdir", str(tmp_path / "out"),
            "-c", str(config), "-with-trace", "t.tsv", "--fail_process", "COUNT",
            "--fail_sample", "b", "--fail_exit", "4", cwd=tmp_path, env=env,
        )  # fmt: skip
        jobs = {j.job_id: j for j in emulator.state.jobs.values()}
    assert done.returncode == 1 and "terminated with an error exit status (4)" in done.stdout
    rows = [line.split("\t") for line in (tmp_path / "t.tsv").read_text().splitlines()[1:]]
    by_name = {row[3]: row for row in rows}
    assert set(by_name) == {"COUNT (a)", "COUNT (b)"}
    assert {row[2] for row in rows} == set(jobs)  # native_id: the Batch job id
    job_b = jobs[by_name["COUNT (b)"][2]]
    assert job_b.status == "FAILED" and job_b.detail["container"]["exitCode"] == 4
    assert job_b.detail["jobQueue"].endswith("/mantle-compute")
    assert (by_name["COUNT (b)"][4], by_name["COUNT (b)"][5]) == ("FAILED", "4")
    assert (tmp_path / "out" / "counts" / "a.txt").read_text() == "a"
