"""The Nextflow engine: the pipeline checked out at its commit, the run directory's params,
config and samplesheet copied to scratch, and one `nextflow run`.

The launch folder (Nextflow's working directory) is scratch, but the resume cache must
outlive it: for a local work dir it goes next to the work (`NXF_CACHE_DIR`), for an S3 work
dir into the bucket (`NXF_CLOUDCACHE_PATH`, Nextflow's cloud cache), so a resumed run on a
new head job finds the session it continues.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from mantle.launcher.checkout import checkout
from mantle.launcher.context import EXIT_ENGINE_MISSING, Context, LauncherError
from mantle.launcher.processes import EngineNotFound, EngineResult, run_engine
from mantle.launcher.run_directory import local_path
from mantle.rundir import NEXTFLOW_CONFIG, PARAMS_JSON, SAMPLESHEET_CSV, RunSpec

BINARY_VARIABLE = "MANTLE_NEXTFLOW"
_SESSION_LINE = re.compile(r"Session UUID: ([0-9a-f-]{36})")
_EXIT_STATUS = re.compile(r"terminated with an error exit status \((\d+)\)")


def nextflow_binary() -> str:
    binary = os.environ.get(BINARY_VARIABLE) or shutil.which("nextflow")
    if not binary:
        raise LauncherError(
            f"nextflow is not installed here: put it on PATH or set {BINARY_VARIABLE} "
            "(the head-job image docker/head-job.Dockerfile has it)",
            exit_code=EXIT_ENGINE_MISSING,
        )
    return binary


def run_name(spec: RunSpec) -> str:
    """Nextflow wants a unique name of lower-case letters, digits, `-` and `_`."""
    return "mantle-" + re.sub(r"[^0-9a-z]", "", spec.run_id.lower())[:40]


def as_engine_path(url: str) -> str:
    """Nextflow takes local folders as paths and S3 ones as s3:// URLs."""
    path = local_path(url)
    return str(path) if path is not None else url


def nextflow_command(
    binary: str,
    spec: RunSpec,
    *,
    pipeline: Path,
    params_file: Path,
    config_file: Path | None,
    trace_file: Path,
) -> list[str]:
    """The `nextflow run` command line (pure: no I/O)."""
    outdir = as_engine_path(spec.outdir)
    argv = [binary, "run", str(pipeline), "-params-file", str(params_file)]
    if config_file is not None:
        argv += ["-c", str(config_file)]
    argv += ["-name", run_name(spec), "-with-trace", str(trace_file)]
    argv += ["-w", as_engine_path(spec.work_dir), "-ansi-log", "false"]
    if spec.weblog_url:
        argv += ["-with-weblog", spec.weblog_url]
    if spec.resume:
        argv += ["-resume", spec.session_id] if spec.session_id else ["-resume"]
    return [*argv, "--outdir", outdir]


def shown(argv: list[str]) -> str:
    """The command for the log: the weblog URL carries the run's event secret."""
    hidden = [
        "<weblog url>" if i and argv[i - 1] == "-with-weblog" else arg for i, arg in enumerate(argv)
    ]
    return " ".join(hidden)


def engine_environment(spec: RunSpec, scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NXF_ANSI_LOG"] = "false"
    env.setdefault("NXF_HOME", str(scratch / "nextflow-home"))
    work = local_path(spec.work_dir)
    if work is not None:
        env.setdefault("NXF_CACHE_DIR", str(work / ".nextflow"))
    else:
        env.setdefault("NXF_CLOUDCACHE_PATH", spec.work_dir.rstrip("/") + "/.nextflow")
    return env


def prepare_params(ctx: Context, folder: Path) -> Path:
    """The run's params with `outdir` set to the run's outdir, and a samplesheet reference
    pointing at the run directory's copy replaced by the local one."""
    raw = ctx.run_dir.read_text(PARAMS_JSON) if ctx.run_dir.exists(PARAMS_JSON) else "{}"
    params = json.loads(raw) if raw.strip() else {}
    if not isinstance(params, dict):
        raise LauncherError(f"{PARAMS_JSON} must hold a JSON object of params")
    params["outdir"] = as_engine_path(ctx.spec.outdir)
    sheet = folder / SAMPLESHEET_CSV
    if ctx.download(SAMPLESHEET_CSV, sheet):
        sheet_url = ctx.run_dir.url + SAMPLESHEET_CSV
        remote = {sheet_url, SAMPLESHEET_CSV, as_engine_path(sheet_url)}
        for name, value in params.items():
            if isinstance(value, str) and value in remote:
                params[name] = str(sheet)
    path = folder / PARAMS_JSON
    path.write_text(json.dumps(params, indent=2, sort_keys=True))
    return path


def run_nextflow(ctx: Context) -> EngineResult:
    spec = ctx.spec
    binary = nextflow_binary()
    pipeline = spec.pipeline
    source = checkout(pipeline.repository, pipeline.commit, ctx.scratch / "pipeline", ctx.log)
    main_script = source / (spec.pipeline.main_script or "main.nf")
    if not main_script.exists():
        raise LauncherError(
            f"the pipeline has no {spec.pipeline.main_script} at commit {spec.pipeline.commit}"
        )
    launch_dir = ctx.scratch / "launch"
    launch_dir.mkdir(parents=True, exist_ok=True)
    params_file = prepare_params(ctx, launch_dir)
    config = launch_dir / NEXTFLOW_CONFIG
    config_file = config if ctx.download(NEXTFLOW_CONFIG, config) else None
    trace = ctx.trace_path()
    trace.unlink(missing_ok=True)  # an earlier attempt's; Nextflow refuses to overwrite it
    work = local_path(spec.work_dir)
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
    outdir = local_path(spec.outdir)
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
    argv = nextflow_command(
        binary, spec, pipeline=main_script, params_file=params_file,
        config_file=config_file, trace_file=trace,
    )  # fmt: skip
    ctx.log.info(f"running {shown(argv)}")
    env = engine_environment(spec, ctx.scratch)
    try:
        result = run_engine(argv, env=env, cwd=launch_dir, log=ctx.log)
    except EngineNotFound as e:
        raise LauncherError(
            f"cannot run nextflow at {e.program}: no such executable", exit_code=EXIT_ENGINE_MISSING
        ) from e
    session = _session_id(launch_dir)
    if session:
        ctx.notes["session_id"] = session
        ctx.log.info(f"nextflow session {session}")
    return result


def _session_id(launch_dir: Path) -> str | None:
    """Nextflow's session id, from its own log (`-resume` continues it)."""
    log = launch_dir / ".nextflow.log"
    try:
        with open(log, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if found := _SESSION_LINE.search(line):
                    return found.group(1)
    except OSError:
        return None
    return None


def failure_reason(lines: list[str]) -> str | None:
    """Nextflow's own one-line reason from its output: the last `ERROR ~ ...` line, with the
    failing task's exit status when Nextflow gave one."""
    errors = [i for i, line in enumerate(lines) if line.startswith("ERROR ~ ")]
    if not errors:
        return None
    reason = lines[errors[-1]].removeprefix("ERROR ~ ").strip()
    for line in lines[errors[-1] :]:
        if found := _EXIT_STATUS.search(line):
            return f"{reason} (exit status {found.group(1)})"
    return reason
