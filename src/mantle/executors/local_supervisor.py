"""`python -m mantle.executors.local_supervisor JOB_DIR -- COMMAND...`: the small process that
watches one local job, so that its outcome survives the server that started it.

The local executor starts this in a session of its own (a server restart does not take it
down). It starts COMMAND as the leader of a new process group (cancel signals that group,
grandchildren included), records the child's pid and start time in `child.json`, sends its
output to `output.log`, waits, and writes `result.json` (exit code, end time) atomically.
A process killed by a signal is recorded as 128 + the signal number, as shells do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from mantle.private_files import write_private_file

CHILD_FILE = "child.json"
CANCEL_FILE = "cancel.json"
RESULT_FILE = "result.json"
LOG_FILE = "output.log"


def write_json(path: Path, data: dict, *, replace: bool = True) -> bool:
    """Write `data` to a 0600 file atomically (readers see all or nothing); with
    `replace=False` a file already there wins. Whether `data` was written."""
    return write_private_file(path, json.dumps(data), replace=replace)


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), which
    tells a process from a later one that got the same pid. None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def supervise(job_dir: Path, command: list[str]) -> int:
    with (job_dir / LOG_FILE).open("ab") as log:
        try:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as e:
            log.write(f"could not start {command[0]}: {e}\n".encode())
            write_json(job_dir / RESULT_FILE, _result(127))
            return 127
        started = process_start_time(child.pid)
        write_json(job_dir / CHILD_FILE, {"pid": child.pid, "start_time": started})
        # The executor signals the child's group; the supervisor itself keeps waiting.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if (job_dir / CANCEL_FILE).exists():  # cancelled before child.json told its pid
            os.killpg(child.pid, signal.SIGTERM)
        code = child.wait()
    exit_code = 128 - code if code < 0 else code
    write_json(job_dir / RESULT_FILE, _result(exit_code))
    return exit_code


def _result(exit_code: int) -> dict:
    return {"exit_code": exit_code, "ended_at": datetime.now(UTC).isoformat()}


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m mantle.executors.local_supervisor JOB_DIR -- COMMAND...")
        return 2
    supervise(Path(argv[0]), argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
