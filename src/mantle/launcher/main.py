"""The launcher's whole sequence, and its exit codes.

0        the engine succeeded and outputs.json lists what it published
N        the engine failed with code N (outputs.json still lists what was published)
1        the launcher itself failed: the last line of launcher.log says why, starting
         with `launcher: error:` (the monitor shows it), and there is no outputs.json
127      the engine's program is missing
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

from pydantic import ValidationError

from mantle.errors import MantleError
from mantle.launcher.checkout import CheckoutError
from mantle.launcher.context import EXIT_LAUNCHER_ERROR, Context, LauncherError
from mantle.launcher.logbook import Logbook, Mirror
from mantle.launcher.nextflow import failure_reason, run_nextflow
from mantle.launcher.outputs import list_outputs, write_manifest
from mantle.launcher.run_directory import RunDirectory, open_run_directory
from mantle.launcher.script import run_script
from mantle.rundir import LAUNCHER_LOG, RUN_JSON, RunSpec

SCRATCH_VARIABLE = "MANTLE_LAUNCHER_SCRATCH"  # a folder for checkouts and staged inputs
KEEP_SCRATCH_VARIABLE = "MANTLE_LAUNCHER_KEEP_SCRATCH"

__all__ = ["LauncherError", "launch", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mantle.launcher",
        description="Run one Mantle run directory: the engine, its log, its outputs manifest.",
    )
    parser.add_argument("run_dir_url", help="the run directory: file:///... or s3://bucket/...")
    args = parser.parse_args(argv)
    with suppress(AttributeError):  # line by line to CloudWatch, where stdout is a pipe
        sys.stdout.reconfigure(line_buffering=True)
    # As a container's PID 1 the launcher would ignore SIGTERM by default (the kernel applies
    # no default action to init): stop on it, until the engine runs and gets it forwarded.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    return launch(args.run_dir_url)


class Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def launch(run_dir_url: str, *, scratch: Path | None = None) -> int:
    """Run the run directory at `run_dir_url`; returns the launcher's exit code."""
    try:
        run_dir = open_run_directory(run_dir_url)
    except MantleError as e:
        print(f"launcher: error: cannot open the run directory: {e.message}", file=sys.stderr)
        return EXIT_LAUNCHER_ERROR
    own_scratch = scratch is None
    if scratch is None:
        base = os.environ.get(SCRATCH_VARIABLE) or None
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="mantle-launcher-", dir=base))
    try:
        return _launch_in(run_dir, scratch)
    finally:
        if own_scratch and not os.environ.get(KEEP_SCRATCH_VARIABLE):
            shutil.rmtree(scratch, ignore_errors=True)


def _launch_in(run_dir: RunDirectory, scratch: Path) -> int:
    mirror = None
    if run_dir.local is not None:
        log = Logbook(run_dir.local / LAUNCHER_LOG)
    else:
        log = Logbook(scratch / LAUNCHER_LOG)
        mirror = Mirror(run_dir.store)
        mirror.track(log.path, LAUNCHER_LOG)
        mirror.start()
    try:
        return _run(run_dir, scratch, log, mirror)
    finally:
        log.close()
        if mirror is not None:
            try:
                mirror.close()
            except MantleError as e:
                print(f"launcher: error: could not upload the log: {e.message}", file=sys.stderr)


def _run(run_dir: RunDirectory, scratch: Path, log: Logbook, mirror: Mirror | None) -> int:
    log.info(f"run directory {run_dir.url}")
    try:
        spec = _read_spec(run_dir)
        pipeline = spec.pipeline
        log.info(f"run {spec.run_id} ({spec.name}): {pipeline.engine} pipeline {pipeline.name}")
        ctx = Context(spec=spec, run_dir=run_dir, scratch=scratch, log=log, mirror=mirror)
        engine = run_nextflow if spec.pipeline.engine == "nextflow" else run_script
        result = engine(ctx)
        files = ctx.uploaded if ctx.uploaded is not None else list_outputs(run_dir.store)
        session = ctx.notes.get("session_id", "")
        write_manifest(run_dir.store, spec.run_id, result.exit_code, files, session_id=session)
    except LauncherError as e:
        log.error(e.message)
        return e.exit_code
    except (Stopped, KeyboardInterrupt) as e:
        signum = e.signum if isinstance(e, Stopped) else signal.SIGINT
        log.error(f"stopped by {signal.Signals(signum).name} before the engine ended")
        return 128 + signum
    except CheckoutError as e:
        log.error(f"cannot check the pipeline out: {e}")
        return EXIT_LAUNCHER_ERROR
    except MantleError as e:
        log.error(e.message)
        return EXIT_LAUNCHER_ERROR
    except OSError as e:
        log.error(f"{type(e).__name__}: {e}")
        return EXIT_LAUNCHER_ERROR
    except Exception as e:  # noqa: BLE001 - whatever it is, the log's last line must say it
        log.error(f"unexpected {type(e).__name__}: {e}")
        return EXIT_LAUNCHER_ERROR
    verdict = "succeeded" if result.exit_code == 0 else f"failed with exit code {result.exit_code}"
    reason = failure_reason(list(log.recent)) if result.exit_code != 0 else None
    log.info(f"outputs.json lists {len(files)} files")
    # The last line: what the monitor shows when the engine failed.
    log.info(f"{spec.pipeline.engine} {verdict}" + (f": {reason}" if reason else ""))
    return result.exit_code


def _read_spec(run_dir: RunDirectory) -> RunSpec:
    if not run_dir.exists(RUN_JSON):
        raise LauncherError(f"the run directory has no {RUN_JSON}")
    try:
        return RunSpec.model_validate_json(run_dir.read_text(RUN_JSON))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:3]
        )
        raise LauncherError(f"{RUN_JSON} is not a valid run spec: {problems}") from e
