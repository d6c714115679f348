"""The Nextflow stand-in (`nextflow`, next to this file) and small nf-core-like pipeline
repositories for end-to-end tests of runs.

    from tests.nextflow_standin import make_pipeline_repo, nextflow_executable, head_commit

    repo = make_pipeline_repo(tmp_path)                 # git repo, one commit
    commit = head_commit(repo)
    env = {"MANTLE_NEXTFLOW": nextflow_executable()}    # the real nextflow when on PATH

`processes` shapes what the pipeline does (see the stand-in's docstring for `standin.json`):
each is `{"name", "per_sample": bool, "publish": {path template: content template},
"sleep": seconds, "log": [lines]}`. The same list generates a real DSL2 `main.nf`, so the
repository also runs under real Nextflow. Params `fail_process` (and `fail_sample`,
`fail_exit`) make a process fail on demand. With `process.executor = 'awsbatch'` in a `-c`
config (the platform's layer for AWS runs), tasks are Batch jobs on `process.queue`, sent to
AWS_ENDPOINT_URL_BATCH (the Batch emulator sets it in every job it runs).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

STANDIN = Path(__file__).with_name("nextflow")

DEFAULT_PROCESSES: list[dict[str, Any]] = [
    {
        "name": "FASTQC",
        "per_sample": True,
        "publish": {
            "fastqc/{sample}_fastqc.html": "<html><body>FastQC report for {sample}</body></html>",
            "fastqc/{sample}_fastqc.zip": "zip of {sample}",
        },
    },
    {
        "name": "STAR_ALIGN",
        "per_sample": True,
        "publish": {"star/{sample}.bam": "BAM {sample}", "star/{sample}.Log.final.out": "ok"},
    },
    {
        "name": "MULTIQC",
        "per_sample": False,
        "publish": {"multiqc/multiqc_report.html": "<html><body>MultiQC</body></html>"},
    },
]


def nextflow_executable() -> str:
    """The real `nextflow` when it is on PATH, otherwise the stand-in."""
    return shutil.which("nextflow") or str(STANDIN)


def make_pipeline_repo(
    tmp_path: Path,
    processes: list[dict[str, Any]] | None = None,
    *,
    name: str = "demo-rnaseq",
) -> Path:
    """A git repository (one commit on `main`) holding a small nf-core-like pipeline:
    main.nf, nextflow.config, nextflow_schema.json (draft-07, an `input` samplesheet and
    `outdir`), assets/schema_input.json and standin.json. Returns its folder."""
    processes = DEFAULT_PROCESSES if processes is None else processes
    repo = tmp_path / name
    (repo / "assets").mkdir(parents=True)
    (repo / "standin.json").write_text(json.dumps({"processes": processes}, indent=2) + "\n")
    (repo / "main.nf").write_text(main_nf(processes))
    (repo / "nextflow.config").write_text(NEXTFLOW_CONFIG.replace("NAME", name))
    (repo / "nextflow_schema.json").write_text(json.dumps(schema(name), indent=2) + "\n")
    (repo / "assets" / "schema_input.json").write_text(json.dumps(SCHEMA_INPUT, indent=2) + "\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "A small nf-core-like pipeline")
    return repo


def head_commit(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def write_samplesheet(path: Path, samples: dict[str, tuple[str, str]]) -> Path:
    """An nf-core samplesheet: sample,fastq_1,fastq_2."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample", "fastq_1", "fastq_2"])
        for sample, (r1, r2) in samples.items():
            writer.writerow([sample, r1, r2])
    return path


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=Mantle Tests", "-c", "user.email=tests@example.com"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout


# --- the repository's files ------------------------------------------------------------------


def main_nf(processes: list[dict[str, Any]]) -> str:
    """A DSL2 script doing what standin.json describes, for real Nextflow."""
    blocks, calls = [], []
    for process in processes:
        per_sample = bool(process.get("per_sample"))
        outputs = (
            "\n".join(f'    path "{_groovy(t)}"' for t in process.get("publish", {}))
            or "    stdout"
        )
        writes = "\n".join(_write_file(t, c) for t, c in process.get("publish", {}).items())
        pname = process["name"]
        blocks.append(
            f"process {pname} {{\n"
            + ('    tag "$sample"\n' if per_sample else "")
            + "    publishDir params.outdir, mode: 'copy'\n\n"
            + "    input:\n"
            + ("    val sample\n" if per_sample else "    val ready\n")
            + "\n    output:\n"
            + outputs
            + '\n\n    script:\n    """\n'
            + f'    if [ "${{params.fail_process}}" = "{pname}" ]; then\n'
            + f"        echo 'standin: {pname} failed on demand' >&2\n"
            + "        exit ${params.fail_exit ?: 1}\n    fi\n"
            + f"    sleep {float(process.get('sleep', 0))}\n"
            + writes
            + '\n    """\n}\n'
        )
        if per_sample:
            calls.append(f"    {pname}(samples)")
        else:
            calls.append(f"    {pname}(samples.collect().ifEmpty(['none']))")
    workflow = (
        "workflow {\n"
        "    samples = params.input\n"
        "        ? Channel.fromPath(params.input).splitCsv(header: true)"
        ".map { row -> row.sample }.unique()\n"
        "        : Channel.empty()\n" + "\n".join(calls) + "\n}\n"
    )
    return "nextflow.enable.dsl = 2\n\n" + "\n".join(blocks) + "\n" + workflow


def _write_file(template: str, content: str) -> str:
    """Shell lines (inside a Groovy string) writing `content` to `template`'s path."""
    path = _groovy(template)
    text = _shell(_groovy(content.replace("$", "\\$")))
    return f'    mkdir -p "\\$(dirname "{path}")"\n    printf \'%s\' \'{text}\' > "{path}"'


def _groovy(template: str) -> str:
    return template.replace("{sample}", "${sample}").replace("{process}", "${task.process}")


def _shell(text: str) -> str:
    return text.replace("'", "'\\''")


NEXTFLOW_CONFIG = """\
params {
    input        = null
    outdir       = null
    fail_process = null
    fail_sample  = null
    fail_exit    = null
}

manifest {
    name            = 'mantle-tests/NAME'
    mainScript      = 'main.nf'
    nextflowVersion = '!>=23.10.0'
    version         = '1.0.0'
}
"""


def schema(name: str) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema",
        "$id": f"https://example.com/mantle-tests/{name}/nextflow_schema.json",
        "title": f"mantle-tests/{name} pipeline parameters",
        "type": "object",
        "definitions": {
            "input_output_options": {
                "title": "Input/output options",
                "type": "object",
                "required": ["input", "outdir"],
                "properties": {
                    "input": {
                        "type": "string",
                        "format": "file-path",
                        "exists": True,
                        "schema": "assets/schema_input.json",
                        "mimetype": "text/csv",
                        "pattern": "^\\S+\\.csv$",
                        "description": "Samplesheet with one row per FASTQ pair.",
                        "fa_icon": "fas fa-file-csv",
                    },
                    "outdir": {
                        "type": "string",
                        "format": "directory-path",
                        "description": "Where the results are published.",
                    },
                },
            },
            "testing_options": {
                "title": "Testing options",
                "type": "object",
                "properties": {
                    "fail_process": {
                        "type": "string",
                        "hidden": True,
                        "description": "Make this process fail (tests only).",
                    },
                    "fail_sample": {"type": "string", "hidden": True},
                    "fail_exit": {"type": "integer", "hidden": True, "minimum": 1},
                },
            },
        },
        "allOf": [
            {"$ref": "#/definitions/input_output_options"},
            {"$ref": "#/definitions/testing_options"},
        ],
    }


FASTQ_PATTERN = "^\\S+\\.f(ast)?q\\.gz$"
SCHEMA_INPUT: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema",
    "$id": "https://example.com/mantle-tests/assets/schema_input.json",
    "title": "Samplesheet",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "sample": {"type": "string", "pattern": "^\\S+$", "meta": ["id"]},
            "fastq_1": {"type": "string", "format": "file-path", "pattern": FASTQ_PATTERN},
            "fastq_2": {"type": "string", "format": "file-path", "pattern": FASTQ_PATTERN},
        },
        "required": ["sample", "fastq_1"],
    },
}
