"""The run directory: the contract between the platform, the executors and the launcher.

Every run owns `{runs root}/{run id}/` in an object store (the environment's write bucket and
prefix on AWS, the local store in the embedded default). The platform writes what to run; the
launcher (`python -m mantle.launcher RUN_DIR_URL`) reads it, runs the engine and writes what
happened; the monitor reads both. Nothing here does I/O beyond the `ObjectStore` it is given,
so the same code serves the server, the worker and the launcher inside a Batch head job.

    run.json          what to run (`RunSpec`)
    params.json       the Nextflow params file (the script engine reads it too)
    samplesheet.csv   built from dataset inputs, when the pipeline takes one
    nextflow.config   the platform's config layer (executor, queue, workDir, cliPath, region)
    trace.tsv         task trace, Nextflow's trace format (`parse_trace`)
    launcher.log      the launcher's own log, with the engine's output
    outputs/          where the pipeline publishes (params.outdir)
    outputs.json      manifest of every published file (`OutputsManifest`), written last
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

RUN_JSON = "run.json"
PARAMS_JSON = "params.json"
SAMPLESHEET_CSV = "samplesheet.csv"
NEXTFLOW_CONFIG = "nextflow.config"
TRACE_TSV = "trace.tsv"
LAUNCHER_LOG = "launcher.log"
OUTPUTS_DIR = "outputs/"
OUTPUTS_JSON = "outputs.json"

SPEC_VERSION = 1

Engine = Literal["nextflow", "script"]


class PipelineRef(BaseModel):
    """The pipeline at the exact commit the run was launched with."""

    name: str
    engine: Engine
    repository: str = ""  # git URL (https, ssh, file://, local path); "" for built-in scripts
    revision: str = ""  # what the user asked for (tag, branch, commit)
    commit: str = ""  # what it resolved to
    main_script: str = "main.nf"
    # Script pipelines: the spec read from their YAML file (command, image, inputs, outputs).
    script: dict[str, Any] | None = None


class InputFile(BaseModel):
    name: str  # the file's name within its dataset (e.g. "R1.fastq.gz")
    uri: str  # where the engine reads it: s3://... or file:///...
    size: int | None = None


class InputDataset(BaseModel):
    id: str  # the dataset's UUID
    short_id: str  # e.g. "ds-12"
    name: str
    data_type: str
    properties: dict[str, Any] = Field(default_factory=dict)
    files: list[InputFile] = Field(default_factory=list)


class RunSpec(BaseModel):
    """run.json: everything the launcher needs; written once at launch, never changed."""

    spec_version: int = SPEC_VERSION
    run_id: str
    tenant_id: str
    name: str
    executor: Literal["local", "awsbatch"]
    pipeline: PipelineRef
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputDataset] = Field(default_factory=list)
    run_dir: str  # this directory's URL, ending in "/"
    work_dir: str  # Nextflow's work directory (URL or local path)
    outdir: str  # where outputs are published: run_dir + "outputs/"
    resume: bool = False
    session_id: str = ""  # Nextflow's session id: `-resume SESSION_ID` continues that session
    # Where the engine posts progress events (Nextflow `-with-weblog`); carries the run's
    # events secret, so it is never logged. None: no live events (the trace file still is).
    weblog_url: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class OutputFile(BaseModel):
    path: str  # relative to outputs/, "/"-separated
    size: int
    checksum: str  # "sha256:<hex>"


class OutputsManifest(BaseModel):
    """outputs.json: written last by the launcher; its presence means the engine has ended."""

    run_id: str
    exit_code: int
    files: list[OutputFile] = Field(default_factory=list)
    # The engine's own session (Nextflow makes one on a first run): `-resume` continues it.
    session_id: str = ""
    finished_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


# --- the trace file ----------------------------------------------------------------------

# Nextflow's default trace fields (docs: "Trace file"); a trace may carry more or fewer.
DEFAULT_TRACE_FIELDS = (
    "task_id", "hash", "native_id", "name", "status", "exit", "submit", "duration",
    "realtime", "%cpu", "peak_rss", "peak_vmem", "rchar", "wchar",
)  # fmt: skip


def parse_trace(text: str) -> list[dict[str, str]]:
    """Rows of a Nextflow trace file, keyed by its header's field names. Values stay the
    strings Nextflow wrote ("-" for missing); a half-written last line is skipped, so a trace
    read while the engine appends to it is still usable."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    reader = csv.DictReader(io.StringIO("".join(lines)), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = reader.fieldnames or []
    return [row for row in reader if len(row) == len(header) and None not in row.values()]


# --- script pipelines --------------------------------------------------------------------

# Placeholders in a script pipeline's command: the launcher's Python, the pipeline checkout.
PYTHON_PLACEHOLDER = "{python}"
PIPELINE_PLACEHOLDER = "{pipeline}"


def script_argv(command: list[str], python: str, pipeline_dir: str | None = None) -> list[str]:
    """A script pipeline's command with its placeholders filled; ValueError when it names
    `{pipeline}` and there is no checkout (a built-in script)."""
    argv = []
    for arg in command:
        arg = arg.replace(PYTHON_PLACEHOLDER, python)
        if PIPELINE_PLACEHOLDER in arg:
            if pipeline_dir is None:
                raise ValueError("the script's command uses {pipeline} but it has no repository")
            arg = arg.replace(PIPELINE_PLACEHOLDER, pipeline_dir)
        argv.append(arg)
    return argv


def dumps(model: BaseModel) -> bytes:
    return model.model_dump_json(indent=2).encode()


def params_json(params: dict[str, Any]) -> bytes:
    return json.dumps(params, indent=2, sort_keys=True).encode()
