"""One emulated Batch job: its DescribeJobs record, and the thread that walks it through
SUBMITTED -> RUNNABLE -> STARTING -> RUNNING -> SUCCEEDED | FAILED while its container command
runs as a subprocess (in a process group of its own, so TerminateJob kills its children too),
copying each output line to CloudWatch Logs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTIVE = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
EXITED_REASON = "Essential container in task exited"
KILL_GRACE_SECONDS = 2.0


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class EmulatedJob:
    """A job as DescribeJobs shows it (`detail`), plus what the emulator needs to run it."""

    detail: dict[str, Any]
    command: list[str]
    environment: dict[str, str]
    log_group: str
    start_failure: str | None = None  # fail in STARTING with this reason, never run
    hold: bool = False  # stay RUNNABLE (many idle jobs for polling tests)
    process: subprocess.Popen | None = None
    terminate_reason: str | None = None
    output: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def job_id(self) -> str:
        return self.detail["jobId"]

    @property
    def status(self) -> str:
        return self.detail["status"]

    def move(self, status: str, reason: str | None = None) -> None:
        self.detail["status"] = status
        if reason:
            self.detail["statusReason"] = reason
        if status == "RUNNING":
            self.detail["startedAt"] = now_ms()
        if status in ("SUCCEEDED", "FAILED"):
            self.detail["stoppedAt"] = now_ms()

    def terminate(self, reason: str) -> None:
        """TerminateJob: a job that never ran fails at once; a running one is killed and
        fails with `reason` when its process has gone."""
        with self.lock:
            if self.status not in ACTIVE:
                return
            self.terminate_reason = reason
            self.detail["isTerminated"] = True
            if self.process is None:
                self.move("FAILED", reason)
                return
            _kill_group(self.process, signal.SIGTERM)
        threading.Timer(KILL_GRACE_SECONDS, _kill_group, (self.process, signal.SIGKILL)).start()


class JobRunner(threading.Thread):
    """Runs one job to its end; `post_logs(job, lines)` sends output to CloudWatch."""

    def __init__(
        self,
        job: EmulatedJob,
        step_seconds: float,
        post_logs: Callable[[EmulatedJob, list[str]], None],
    ) -> None:
        super().__init__(name=f"batch-job-{job.job_id[:8]}", daemon=True)
        self.job, self.step, self.post_logs = job, step_seconds, post_logs

    def run(self) -> None:
        job = self.job
        for status in ("PENDING", "RUNNABLE"):
            if not self._advance(status):
                return
        while job.hold and job.status == "RUNNABLE":
            time.sleep(self.step)
        if not self._advance("STARTING"):
            return
        if job.start_failure:
            with job.lock:
                if job.status == "STARTING":
                    job.move("FAILED", job.start_failure)
            return
        self._run_container()

    def _advance(self, status: str) -> bool:
        time.sleep(self.step)
        with self.job.lock:
            if self.job.status not in ACTIVE:
                return False  # terminated meanwhile
            self.job.move(status)
            return True

    def _run_container(self) -> None:
        job = self.job
        with job.lock:
            if job.status not in ACTIVE:
                return
            try:
                job.process = subprocess.Popen(
                    job.command,
                    env=job.environment,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as e:
                job.move("FAILED", f"CannotStartContainerError: {e}")
                return
            job.move("RUNNING")
        self._pump_output(job.process)
        code = job.process.wait()
        exit_code = 128 - code if code < 0 else code
        with job.lock:
            job.detail["container"]["exitCode"] = exit_code
            if job.terminate_reason:
                job.move("FAILED", job.terminate_reason)
            elif exit_code == 0:
                job.move("SUCCEEDED", EXITED_REASON)
            else:
                job.move("FAILED", EXITED_REASON)

    def _pump_output(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        with process.stdout:
            for raw in process.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.job.output.append(line)
                try:
                    self.post_logs(self.job, [line])
                except Exception:  # noqa: BLE001 - a logging fault must not hang the job
                    traceback.print_exc()


def _kill_group(process: subprocess.Popen, signum: int) -> None:
    # The group may outlive its leader (grandchildren): signal it even after the leader ended.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def container_command(command: list[str]) -> list[str]:
    """The container's `python` is this test run's interpreter."""
    if command and command[0] in ("python", "python3"):
        return [sys.executable, *command[1:]]
    return command
