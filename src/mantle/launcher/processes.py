"""Running the engine: one child process whose output is streamed line by line into the log,
with SIGTERM and SIGINT forwarded to it so Nextflow can cancel its task jobs before it exits
(Batch sends SIGTERM to the head job's main process only; a local cancel signals the whole
process group, so the child may see the signal twice, which both engines tolerate).

The child is reaped with `os.wait4`, which gives its own resource usage (CPU time, peak
RSS) rather than that of every child the launcher ever had.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mantle.launcher.logbook import Logbook

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@dataclass(frozen=True)
class EngineResult:
    exit_code: int
    started: float  # epoch seconds
    ended: float
    cpu_seconds: float  # user + system time of the child and its descendants
    peak_rss_bytes: int
    stopped_by: int | None = None  # the signal the launcher received and forwarded

    @property
    def realtime(self) -> float:
        return max(self.ended - self.started, 0.0)


class EngineNotFound(Exception):
    def __init__(self, program: str) -> None:
        super().__init__(program)
        self.program = program


def run_engine(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Logbook
) -> EngineResult:
    """Run `argv` to its end; the exit code follows the shell's rule (128 + signal when the
    child was killed by a signal). Raises EngineNotFound when the program does not exist."""
    received: list[int] = []
    started = time.time()
    try:
        child = subprocess.Popen(  # noqa: S603 - argv is built by the launcher, no shell
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except FileNotFoundError as e:
        raise EngineNotFound(argv[0]) from e
    except PermissionError as e:
        raise EngineNotFound(argv[0]) from e

    def forward(signum: int, _frame: Any) -> None:
        received.append(signum)
        log.info(f"received {signal.Signals(signum).name}; passing it to the engine")
        with suppress(ProcessLookupError):  # it has just ended
            child.send_signal(signum)

    previous = _install(forward)
    pump = threading.Thread(target=_pump, args=(child, log), name="engine-output", daemon=True)
    pump.start()
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        _restore(previous)
    child.returncode = os.waitstatus_to_exitcode(status)
    ended = time.time()
    pump.join(timeout=10)
    code = child.returncode
    exit_code = 128 - code if code < 0 else code
    stopped_by = received[0] if received else None
    if stopped_by is not None and exit_code == 0:
        exit_code = 128 + stopped_by  # stopped on request: never report success
    return EngineResult(
        exit_code=exit_code,
        started=started,
        ended=ended,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        stopped_by=stopped_by,
    )


def _pump(child: subprocess.Popen, log: Logbook) -> None:
    assert child.stdout is not None
    with child.stdout:
        for raw in child.stdout:
            log.write(raw.decode("utf-8", errors="replace"))


def _install(handler: Any) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals can only be caught on the main thread (tests call from others)
    return {sig: signal.signal(sig, handler) for sig in FORWARDED_SIGNALS}


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
