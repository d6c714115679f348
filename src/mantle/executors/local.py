"""The `local` executor: the launcher as a subprocess on this machine (the embedded default).

Each job has a folder `state_dir/<job id>/` that outlives the server: `job.json` (command and
the supervisor's pid and start time), `child.json` and `result.json` from the supervisor
(`local_supervisor`), `cancel.json` when it was cancelled, and `output.log`. Any executor over
the same `state_dir` (a restarted server) reads the same state: a job still running is
re-attached; one whose processes are gone without a result is failed with a reason saying so.
Pids are checked together with their start time, so a reused pid is never mistaken for ours.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mantle.executors.base import Executor, HeadJob, JobState, JobStatus, LogLine, LogPage
from mantle.executors.local_supervisor import (
    CANCEL_FILE,
    CHILD_FILE,
    LOG_FILE,
    RESULT_FILE,
    process_start_time,
    write_json,
)
from mantle.private_files import make_private_dir

JOB_FILE = "job.json"
LOST_REASON = (
    "the local process ended without a result (the machine or server restarted while it ran)"
)
UNKNOWN_REASON = "no such local job (its state folder is gone)"
DEFAULT_GRACE_SECONDS = 10.0


class LocalExecutor(Executor):
    name = "local"

    def __init__(
        self,
        state_dir: Path,
        *,
        command: Sequence[str] | None = None,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.command = list(command) if command else [sys.executable, "-m", "mantle.launcher"]
        self.grace_seconds = grace_seconds

    @property
    def group_key(self) -> str:
        return "local"

    def submit(self, job: HeadJob) -> str:
        job_id = uuid.uuid4().hex
        folder = self.state_dir / job_id
        make_private_dir(folder)  # its log may hold secrets the job printed
        command = [*self.command, job.run_dir_url]
        supervisor = [
            sys.executable, "-m", "mantle.executors.local_supervisor", str(folder), "--", *command
        ]  # fmt: skip
        process = subprocess.Popen(
            supervisor,
            env={**os.environ, **job.environment},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=folder,
        )
        # Reap the supervisor when it ends (no zombie); after a restart it is nobody's child.
        threading.Thread(target=process.wait, name=f"reap-{job_id[:8]}", daemon=True).start()
        write_json(
            folder / JOB_FILE,
            {
                "run_id": str(job.run_id),
                "command": command,
                "supervisor_pid": process.pid,
                "supervisor_start_time": process_start_time(process.pid),
                "submitted_at": _now().isoformat(),
            },
        )
        return job_id

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        return {job_id: self._state(job_id) for job_id in dict.fromkeys(job_ids)}

    def _state(self, job_id: str) -> JobState:
        folder = self._folder(job_id)
        if folder is None or not (folder / JOB_FILE).exists():
            return JobState(job_id, JobStatus.failed, reason=UNKNOWN_REASON)
        result = _read(folder / RESULT_FILE)
        if result is None and not self._alive(folder):
            result = _read(folder / RESULT_FILE)  # it may have ended just now
            if result is None:
                return JobState(job_id, JobStatus.failed, reason=LOST_REASON)
        if result is None:
            self._escalate(folder)
            child = _read(folder / CHILD_FILE)
            status = JobStatus.running if child else JobStatus.pending
            return JobState(job_id, status, started_at=_mtime(folder / CHILD_FILE))
        return _finished(job_id, folder, result)

    def _alive(self, folder: Path) -> bool:
        job = _read(folder / JOB_FILE) or {}
        child = _read(folder / CHILD_FILE) or {}
        return _same_process(job.get("supervisor_pid"), job.get("supervisor_start_time")) or (
            _same_process(child.get("pid"), child.get("start_time"))
        )

    def cancel(self, job_id: str, *, reason: str, task_ids: Sequence[str] = ()) -> None:
        folder = self._folder(job_id)
        if folder is None or (folder / RESULT_FILE).exists():
            return
        # The first cancel's reason wins, also against a concurrent one.
        cancelled = {"reason": reason or "cancelled", "at": time.time()}
        write_json(folder / CANCEL_FILE, cancelled, replace=False)
        self._signal_child(folder, signal.SIGTERM)
        timer = threading.Timer(self.grace_seconds, self._escalate, args=(folder,))
        timer.daemon = True
        timer.start()

    def _escalate(self, folder: Path) -> None:
        """SIGKILL a cancelled job's group that outlived its grace period."""
        cancel = _read(folder / CANCEL_FILE)
        if cancel is None or (folder / RESULT_FILE).exists():
            return
        if time.time() - float(cancel.get("at", 0)) >= self.grace_seconds:
            self._signal_child(folder, signal.SIGKILL)

    def _signal_child(self, folder: Path, signum: int) -> None:
        child = _read(folder / CHILD_FILE)
        if not child or not _same_process(child.get("pid"), child.get("start_time")):
            return
        with suppress(ProcessLookupError):
            os.killpg(child["pid"], signum)  # the child leads its group: grandchildren too

    def logs(self, job_id: str, cursor: str | None = None, *, limit: int = 1000) -> LogPage:
        folder = self._folder(job_id)
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        if folder is None or not (folder / LOG_FILE).exists():
            return LogPage(lines=[], cursor=cursor)
        finished = (folder / RESULT_FILE).exists()
        lines: list[LogLine] = []
        with (folder / LOG_FILE).open("rb") as f:
            f.seek(offset)
            while len(lines) < limit:
                raw = f.readline()
                if not raw or (not raw.endswith(b"\n") and not finished):
                    break  # a line still being written is read whole next time
                offset += len(raw)
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                lines.append(LogLine(timestamp=None, message=text))
        return LogPage(lines=lines, cursor=str(offset) if lines else cursor)

    def log_path(self, job_id: str) -> Path | None:
        folder = self._folder(job_id)
        return folder / LOG_FILE if folder else None

    def _folder(self, job_id: str) -> Path | None:
        # Job ids are uuid hex: anything else never names a folder (no path tricks).
        try:
            canonical = uuid.UUID(hex=job_id).hex
        except ValueError:
            return None
        folder = self.state_dir / canonical
        return folder if canonical == job_id and folder.is_dir() else None


def _finished(job_id: str, folder: Path, result: dict[str, Any]) -> JobState:
    exit_code = int(result["exit_code"])
    stopped = datetime.fromisoformat(result["ended_at"])
    started = _mtime(folder / CHILD_FILE)
    cancel = _read(folder / CANCEL_FILE)
    if cancel is not None:
        return JobState(job_id, JobStatus.failed, cancel["reason"], exit_code, started, stopped)
    if exit_code == 0:
        return JobState(job_id, JobStatus.succeeded, "", 0, started, stopped)
    reason = f"the launcher exited with code {exit_code}"
    return JobState(job_id, JobStatus.failed, reason, exit_code, started, stopped)


def _same_process(pid: Any, start_time: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    return start_time is not None and process_start_time(pid) == start_time


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)
