"""The script engine on a local run directory: the script protocol (staged inputs, params,
outdir through MANTLE_* variables), outputs.json and a one-task trace in Nextflow's format."""

from __future__ import annotations

import hashlib
import json

from mantle.rundir import InputDataset, InputFile, PipelineRef
from tests.launcher.conftest import launch_here, write_run

# Reads the protocol's files and writes one output per input file plus a summary.
PROGRAM = """
import hashlib, json, os, pathlib, sys
params = json.load(open(os.environ["MANTLE_PARAMS_FILE"]))
inputs = json.load(open(os.environ["MANTLE_INPUTS_FILE"]))
outdir = pathlib.Path(os.environ["MANTLE_OUTDIR"])
print("greeting is", params["greeting"])
for item in inputs:
    for f in item["files"]:
        digest = hashlib.sha256(open(f["path"], "rb").read()).hexdigest()
        target = outdir / "per_file" / (item["dataset"]["short_id"] + "_" + f["name"] + ".sha256")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(digest)
(outdir / "summary.json").write_text(json.dumps({"inputs": inputs, "argv": sys.argv[1:]}))
sys.exit(int(params.get("exit", 0)))
"""


def script_pipeline(command=None, **script) -> PipelineRef:
    command = command or ["{python}", "-c", PROGRAM, "extra-arg"]
    return PipelineRef(name="checksums", engine="script", script={"command": command, **script})


def fastq_inputs(tmp_path) -> list[InputDataset]:
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "R1.fastq.gz").write_bytes(b"@r1\nACGT\n+\nIIII\n")
    (folder / "R2.fastq.gz").write_bytes(b"@r2\nTTGA\n+\nIIII\n")
    files = [
        InputFile(name=name, uri=(folder / name).as_uri(), size=16)
        for name in ("R1.fastq.gz", "R2.fastq.gz")
    ]
    dataset = InputDataset(
        id="7d1c6a8e-0000-4000-8000-000000000001",
        short_id="ds-12",
        name="sample A",
        data_type="fastq_pair",
        properties={"sample": "A", "lane": 1},
        files=files,
    )
    return [dataset]


def test_a_script_runs_by_the_protocol_and_its_outputs_are_listed(store, env, tmp_path):
    inputs = fastq_inputs(tmp_path)
    run = write_run(
        store,
        script_pipeline(),
        work_dir=(tmp_path / "work").as_uri(),
        params={"greeting": "hello"},
        samplesheet=False,
        inputs=inputs,
    )

    assert launch_here(run.url) == 0, run.log()

    summary = json.loads(run.store.read_bytes("outputs/summary.json"))
    assert summary["argv"] == ["extra-arg"]
    [staged] = summary["inputs"]
    assert staged["dataset"] == {
        "id": inputs[0].id, "short_id": "ds-12", "name": "sample A",
        "data_type": "fastq_pair", "properties": {"sample": "A", "lane": 1},
    }  # fmt: skip
    # file:// inputs are read in place
    assert staged["files"][0] == {
        "name": "R1.fastq.gz",
        "path": str(tmp_path / "uploads" / "R1.fastq.gz"),
    }
    expected = hashlib.sha256(b"@r1\nACGT\n+\nIIII\n").hexdigest()
    assert run.store.read_bytes("outputs/per_file/ds-12_R1.fastq.gz.sha256").decode() == expected
    manifest = run.manifest()
    assert manifest.exit_code == 0
    assert [f.path for f in manifest.files] == [
        "per_file/ds-12_R1.fastq.gz.sha256",
        "per_file/ds-12_R2.fastq.gz.sha256",
        "summary.json",
    ]
    [task] = run.trace()
    assert task["task_id"] == "1"
    assert task["process"] == task["name"] == "checksums"
    assert task["status"] == "COMPLETED" and task["exit"] == "0"
    assert task["%cpu"].endswith("%") and task["peak_rss"].endswith("MB")
    assert "greeting is hello" in run.log()


def test_a_failing_script_fails_the_run_with_its_exit_code(store, env, tmp_path):
    run = write_run(
        store,
        script_pipeline(),
        work_dir=(tmp_path / "work").as_uri(),
        params={"greeting": "hi", "exit": 3},
        samplesheet=False,
    )

    assert launch_here(run.url) == 3

    assert run.manifest().exit_code == 3
    [task] = run.trace()
    assert (task["status"], task["exit"]) == ("FAILED", "3")
    assert run.log_tail()[-1] == "launcher: script failed with exit code 3"


def test_a_script_in_an_image_needs_a_docker_engine(store, env, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-docker-here"))
    run = write_run(
        store,
        script_pipeline(image="ghcr.io/acme/tool:1.0"),
        work_dir=(tmp_path / "work").as_uri(),
        samplesheet=False,
    )

    assert launch_here(run.url) == 1

    last = run.log_tail()[-1]
    assert last.startswith("launcher: error:")
    assert "ghcr.io/acme/tool:1.0" in last and "no Docker engine" in last


def test_a_missing_script_program_exits_127(store, env, tmp_path):
    run = write_run(
        store,
        script_pipeline(command=[str(tmp_path / "no-such-tool"), "--help"]),
        work_dir=(tmp_path / "work").as_uri(),
        samplesheet=False,
    )

    assert launch_here(run.url) == 127
    assert "no-such-tool" in run.log_tail()[-1]


def test_a_script_without_a_command_is_refused(store, env, tmp_path):
    run = write_run(
        store,
        PipelineRef(name="broken", engine="script", script={"command": "echo hi"}),
        work_dir=(tmp_path / "work").as_uri(),
        samplesheet=False,
    )

    assert launch_here(run.url) == 1
    assert "must be a non-empty list" in run.log_tail()[-1]
