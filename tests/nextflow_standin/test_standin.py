"""The stand-in keeps Nextflow's contract where the launcher's tests do not look: its CLI,
cache rules, and weblog posts that fail without failing the run."""

from __future__ import annotations

import json
import subprocess

from tests.nextflow_standin import STANDIN, make_pipeline_repo, write_samplesheet

ONE = [{"name": "COUNT", "per_sample": True, "publish": {"counts/{sample}.txt": "{sample}"}}]


def nextflow(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(STANDIN), *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )


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
