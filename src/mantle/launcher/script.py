"""The script engine: one command, run by the script protocol.

The protocol, which every script pipeline (the built-in `fastq-stats` too) is written
against:

- `pipeline.script["command"]`: the argv (a list, never a shell line); an element `{python}`
  becomes the launcher's own Python (`python` inside an image), `{pipeline}` the checkout
  of the pipeline's repository (when it has one).
- Environment: `MANTLE_PARAMS_FILE` (the run's params, JSON), `MANTLE_INPUTS_FILE` (JSON:
  `[{"dataset": {"id", "short_id", "name", "data_type", "properties"},
  "files": [{"name", "path"}]}]` with local paths: `file://` inputs are read in place, `s3://`
  ones are downloaded to `inputs/<dataset short id>/<name>` first) and `MANTLE_OUTDIR` (the
  folder to write outputs into; for a local run directory it is `outputs/` itself, for an S3
  one a scratch folder uploaded to `outputs/` afterwards).
- Exit code 0 means success; anything else fails the run.
- `pipeline.script["image"]`: run the command in that image with `docker run --rm`, the
  folders mounted at the same paths. That needs a Docker engine where the launcher runs; a
  Batch head job has none, so on Batch script pipelines run directly in the head image and
  must leave `image` empty.

The run gets a one-task trace in Nextflow's format, so both engines show tasks the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mantle.launcher import trace_format
from mantle.launcher.checkout import checkout
from mantle.launcher.context import EXIT_ENGINE_MISSING, Context, LauncherError
from mantle.launcher.outputs import upload_folder
from mantle.launcher.processes import EngineNotFound, EngineResult, run_engine
from mantle.launcher.run_directory import local_path
from mantle.rundir import OUTPUTS_DIR, PARAMS_JSON, InputDataset, script_argv

INPUTS_JSON = "inputs.json"
DOCKER_CHECK_SECONDS = 20


def run_script(ctx: Context) -> EngineResult:
    script = ctx.spec.pipeline.script or {}
    command = script.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise LauncherError("the script pipeline's command must be a non-empty list of strings")
    image = script.get("image") or ""
    work = ctx.scratch / "work"
    work.mkdir(parents=True, exist_ok=True)
    pipeline_dir = None
    if ctx.spec.pipeline.repository:
        pipeline = ctx.spec.pipeline
        pipeline_dir = checkout(
            pipeline.repository, pipeline.commit, ctx.scratch / "pipeline", ctx.log
        )
    params_file = _params_file(ctx)
    inputs_file = _stage_inputs(ctx)
    outdir = _outdir(ctx)
    env = dict(os.environ)
    env.update(
        MANTLE_PARAMS_FILE=str(params_file),
        MANTLE_INPUTS_FILE=str(inputs_file),
        MANTLE_OUTDIR=str(outdir),
    )
    python = "python" if image else sys.executable
    try:
        argv = script_argv(command, python, str(pipeline_dir) if pipeline_dir else None)
    except ValueError as e:
        raise LauncherError(str(e)) from e
    if image:
        mounts = [ctx.scratch, outdir, *_input_folders(inputs_file)]
        if pipeline_dir is not None:
            mounts.append(pipeline_dir)
        argv = docker_command(image, argv, mounts=mounts, workdir=work, env=env)
    ctx.log.info(f"running {' '.join(argv)}")
    trace = ctx.trace_path()
    try:
        result = run_engine(argv, env=env, cwd=pipeline_dir or work, log=ctx.log)
    except EngineNotFound as e:
        raise LauncherError(
            f"cannot run the script's command {e.program}: no such executable",
            exit_code=EXIT_ENGINE_MISSING,
        ) from e
    trace.write_text(trace_format.trace_text([trace_row(ctx, result, work)]))
    if ctx.run_dir.local is None:
        ctx.log.info("uploading outputs")
        ctx.uploaded = upload_folder(outdir, ctx.run_dir.store)
    return result


def _params_file(ctx: Context) -> Path:
    path = ctx.scratch / PARAMS_JSON
    if not ctx.download(PARAMS_JSON, path):
        path.write_text(json.dumps(ctx.spec.params, indent=2, sort_keys=True))
    return path


def _outdir(ctx: Context) -> Path:
    if ctx.run_dir.local is not None:
        outdir = ctx.run_dir.local / OUTPUTS_DIR.rstrip("/")
    else:
        outdir = ctx.scratch / "outputs"
    outdir.mkdir(parents=True, exist_ok=True)
    return outdir


def _stage_inputs(ctx: Context) -> Path:
    staged = []
    for dataset in ctx.spec.inputs:
        files = [
            {"name": f.name, "path": str(_stage_file(ctx, dataset, f.name, f.uri))}
            for f in dataset.files
        ]
        staged.append({"dataset": _dataset_fields(dataset), "files": files})
    path = ctx.scratch / INPUTS_JSON
    path.write_text(json.dumps(staged, indent=2))
    return path


def _dataset_fields(dataset: InputDataset) -> dict:
    fields = {"id", "short_id", "name", "data_type", "properties"}
    return dataset.model_dump(mode="json", include=fields)


def _stage_file(ctx: Context, dataset: InputDataset, name: str, uri: str) -> Path:
    path = local_path(uri)
    if path is not None:
        if not path.is_file():
            raise LauncherError(f"input {name} of {dataset.short_id} is missing: {uri}")
        return path
    if not uri.startswith("s3://"):
        raise LauncherError(f"input {name} of {dataset.short_id}: cannot read {uri!r}")
    if "/" in name or name in ("", ".", ".."):
        raise LauncherError(f"input file name {name!r} of {dataset.short_id} is not a plain name")
    dest = ctx.scratch / "inputs" / dataset.short_id / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    ctx.log.info(f"downloading {uri}")
    with open(dest, "wb") as handle:
        for chunk in ctx.run_dir.open_input(uri):
            handle.write(chunk)
    return dest


def _input_folders(inputs_file: Path) -> list[Path]:
    staged = json.loads(inputs_file.read_text())
    return sorted({Path(f["path"]).parent for item in staged for f in item["files"]})


def docker_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=DOCKER_CHECK_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def docker_command(
    image: str, argv: list[str], *, mounts: list[Path], workdir: Path, env: dict[str, str]
) -> list[str]:
    if not docker_available():
        raise LauncherError(
            f"this script pipeline runs in the container image {image}, but no Docker engine "
            "is reachable where the launcher runs (on AWS Batch, script pipelines must have "
            "no image: they run directly in the head-job image)"
        )
    command = ["docker", "run", "--rm", "--init", "--user", f"{os.getuid()}:{os.getgid()}"]
    for folder in dict.fromkeys(str(m) for m in mounts):
        command += ["-v", f"{folder}:{folder}"]
    for name in ("MANTLE_PARAMS_FILE", "MANTLE_INPUTS_FILE", "MANTLE_OUTDIR"):
        command += ["-e", f"{name}={env[name]}"]
    return [*command, "-w", str(workdir), image, *argv]


def trace_row(ctx: Context, result: EngineResult, work: Path) -> dict[str, object]:
    name = ctx.spec.pipeline.name
    realtime = result.realtime
    cpu = 100.0 * result.cpu_seconds / realtime if realtime > 0 else 0.0
    return {
        "task_id": 1,
        "hash": "-",
        "native_id": "-",
        "name": name,
        "status": "COMPLETED" if result.exit_code == 0 else "FAILED",
        "exit": result.exit_code,
        "submit": trace_format.timestamp(result.started),
        "start": trace_format.timestamp(result.started),
        "complete": trace_format.timestamp(result.ended),
        "duration": trace_format.duration(realtime),
        "realtime": trace_format.duration(realtime),
        "%cpu": trace_format.percent(cpu),
        "peak_rss": trace_format.memory(result.peak_rss_bytes),
        "peak_vmem": "-",
        "rchar": "-",
        "wchar": "-",
        "process": name,
        "tag": "-",
        "workdir": str(work),
    }
