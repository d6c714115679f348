"""Fixtures for launcher tests: a local object store like the embedded default's, run
directories written the way the platform writes them, and the launcher run in a subprocess
(`python -m mantle.launcher`) or in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mantle.rundir import (
    LAUNCHER_LOG,
    NEXTFLOW_CONFIG,
    OUTPUTS_JSON,
    PARAMS_JSON,
    RUN_JSON,
    SAMPLESHEET_CSV,
    TRACE_TSV,
    OutputsManifest,
    PipelineRef,
    RunSpec,
    dumps,
    params_json,
    parse_trace,
)
from mantle.storage import FileObjectStore, ObjectStore
from tests.nextflow_standin import head_commit, make_pipeline_repo, nextflow_executable

SAMPLES = {"s1": ("s1_R1.fastq.gz", "s1_R2.fastq.gz"), "s2": ("s2_R1.fastq.gz", "s2_R2.fastq.gz")}
CONFIG = "process.executor = 'local'\n"


@dataclass
class RunDir:
    spec: RunSpec
    store: ObjectStore  # scoped to the run directory

    @property
    def url(self) -> str:
        return self.spec.run_dir

    def text(self, name: str) -> str:
        return self.store.read_bytes(name).decode()

    def log(self) -> str:
        return self.text(LAUNCHER_LOG)

    def log_tail(self, lines: int = 25) -> list[str]:
        return self.log().splitlines()[-lines:]

    def trace(self) -> list[dict[str, str]]:
        return parse_trace(self.text(TRACE_TSV))

    def manifest(self) -> OutputsManifest:
        return OutputsManifest.model_validate_json(self.text(OUTPUTS_JSON))


@pytest.fixture
def store(tmp_path) -> FileObjectStore:
    """The platform's local object store (the launcher finds it from a run directory)."""
    return FileObjectStore(tmp_path / "objects")


@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory) -> Path:
    return make_pipeline_repo(tmp_path_factory.mktemp("pipelines"))


@pytest.fixture
def env(monkeypatch) -> dict[str, str]:
    """The launcher's environment: the Nextflow to use, quick log uploads."""
    monkeypatch.setenv("MANTLE_NEXTFLOW", nextflow_executable())
    monkeypatch.setenv("MANTLE_LAUNCHER_SYNC_SECONDS", "0.2")
    return dict(os.environ)


def nextflow_pipeline(repo: Path, **overrides: Any) -> PipelineRef:
    fields = {
        "name": "demo-rnaseq",
        "engine": "nextflow",
        "repository": str(repo),
        "revision": "main",
        "commit": head_commit(repo),
    }
    return PipelineRef(**{**fields, **overrides})


def write_run(
    store: ObjectStore,
    pipeline: PipelineRef,
    *,
    work_dir: str,
    params: dict[str, Any] | None = None,
    samplesheet: bool = True,
    **spec_fields: Any,
) -> RunDir:
    """A run directory as launch writes it: run.json, params.json, nextflow.config and
    samplesheet.csv, under `runs/<run id>/` of `store`."""
    run_id = str(uuid.uuid4())
    run_store = store.scoped(f"runs/{run_id}/")
    run_dir = run_store.root_uri
    params = dict(params or {})
    if samplesheet:
        rows = ["sample,fastq_1,fastq_2", *(f"{s},{a},{b}" for s, (a, b) in SAMPLES.items())]
        run_store.put(SAMPLESHEET_CSV, ("\n".join(rows) + "\n").encode())
        params.setdefault("input", run_dir + SAMPLESHEET_CSV)
    params.setdefault("outdir", run_dir + "outputs/")
    spec = RunSpec(
        run_id=run_id,
        tenant_id=str(uuid.uuid4()),
        name=spec_fields.pop("name", "test run"),
        executor="local",
        pipeline=pipeline,
        params=params,
        run_dir=run_dir,
        work_dir=work_dir,
        outdir=run_dir + "outputs/",
        **spec_fields,
    )
    run_store.put(PARAMS_JSON, params_json(params))
    run_store.put(NEXTFLOW_CONFIG, CONFIG.encode())
    run_store.put(RUN_JSON, dumps(spec))
    return RunDir(spec=spec, store=run_store)


def launch_here(url: str) -> int:
    """The launcher in this process (quicker than a new interpreter), with this environment."""
    from mantle.launcher import launch

    return launch(url)


def run_launcher(url: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m mantle.launcher URL`, as the executors start it."""
    return subprocess.run(
        [sys.executable, "-m", "mantle.launcher", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def session_id(log: str) -> str:
    for line in log.splitlines():
        if line.startswith("launcher: nextflow session "):
            return line.rsplit(" ", 1)[1]
    raise AssertionError("the launcher logged no Nextflow session id")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
