"""Why a run failed, in one line a scientist can act on.

In order of usefulness:
1. a task failed (the trace says so): `process FASTQC (sample1) failed with exit code 1:
   <the last meaningful line of the log>` — Nextflow's `ERROR ~` block (its `Command error:`
   section, else its `Caused by:` line) or the launcher's own `launcher: error:` line;
2. the head job never ran properly (Batch's statusReason): AWS's words plus what to check;
3. otherwise the launcher's exit code and the last line of its log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mantle.executors.base import JobState

MAX_LENGTH = 500
LAUNCHER_ERROR = "launcher: error:"

# Words in Batch's status reasons and what a scientist or their admin should check. The
# awsbatch executor joins statusReason and the container's reason ("Task failed to start:
# CannotPullContainerError: ..."), so these are searched anywhere in the text.
BATCH_HINTS: tuple[tuple[str, str], ...] = (
    (
        "CannotPullContainerError",
        "check the head image name and tag, and that the compute "
        "environment can pull it (ECR read rights on the instance role, or a NAT for public "
        "registries); `mantle aws doctor` checks both",
    ),
    ("CannotInspectContainerError", "the instance's Docker daemon failed; relaunch the run"),
    (
        "ResourceInitializationError",
        "the job could not get its secrets, logs or network: check "
        "the execution role and the subnets' route to ECR and CloudWatch Logs",
    ),
    ("OutOfMemoryError", "the head job ran out of memory: raise the environment's head job memory"),
    (
        "Host EC2",
        "the instance running the head job went away (Spot reclaim or scale-in): "
        "relaunch, or resume to keep finished tasks",
    ),
    (
        "Job attempt duration exceeded timeout",
        "the head job hit its time limit: raise the job definition's timeout",
    ),
)


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_LENGTH else line[: MAX_LENGTH - 1] + "…"


def failed_task(trace_rows: Sequence[Mapping[str, str]]) -> Mapping[str, str] | None:
    """The last task the trace reports FAILED (Nextflow stops on the first error that is not
    retried; earlier attempts that were retried are followed by a later row)."""
    failed = [r for r in trace_rows if (r.get("status") or "").upper() == "FAILED"]
    if not failed:
        return None
    retried = {r.get("name") for r in trace_rows if (r.get("status") or "").upper() != "FAILED"}
    final = [r for r in failed if r.get("name") not in retried]
    return (final or failed)[-1]


def log_reason(log_tail: str) -> str:
    """The last meaningful line of a launcher log: Nextflow's error block, else the launcher's
    own error line, else ""."""
    lines = [line.rstrip() for line in log_tail.splitlines()]
    start = max((i for i, line in enumerate(lines) if "ERROR ~" in line), default=None)
    if start is not None:
        return _nextflow_error(lines[start:])
    for line in reversed(lines):
        if LAUNCHER_ERROR in line:
            return line.split(LAUNCHER_ERROR, 1)[1].strip()
    return ""


def _section(lines: list[str], title: str) -> list[str]:
    """The indented lines under `title:` in a Nextflow error block."""
    try:
        at = next(i for i, line in enumerate(lines) if line.strip() == title)
    except StopIteration:
        return []
    body = []
    for line in lines[at + 1 :]:
        if line and not line.startswith((" ", "\t")):
            break
        if line.strip():
            body.append(line.strip())
    return body


def _nextflow_error(block: list[str]) -> str:
    command_error = [
        line for line in _section(block, "Command error:") if line not in ("(empty)", "")
    ]
    if command_error:
        return command_error[-1]
    caused_by = _section(block, "Caused by:")
    if caused_by:
        return caused_by[0]
    return block[0].split("ERROR ~", 1)[1].strip()


def last_line(log_tail: str) -> str:
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def batch_hint(reason: str) -> str:
    return next((hint for words, hint in BATCH_HINTS if words in reason), "")


def explain(
    state: JobState, trace_rows: Sequence[Mapping[str, str]] = (), log_tail: str = ""
) -> str:
    """The one-line reason for a failed head job."""
    task = failed_task(trace_rows)
    detail = log_reason(log_tail)
    if task is not None:
        name = task.get("name") or task.get("process") or f"task {task.get('task_id', '?')}"
        process = f"process {name}"
        exit_code = (task.get("exit") or "").strip()
        what = f"failed with exit code {exit_code}" if exit_code not in ("", "-") else "failed"
        return one_line(f"{process} {what}" + (f": {detail}" if detail else ""))
    reason = state.reason.strip()
    hint = batch_hint(reason)
    if reason and (hint or state.exit_code is None):
        return one_line(reason + (f" ({hint})" if hint else ""))
    tail = detail or last_line(log_tail)
    code = state.exit_code
    head = f"the launcher exited with code {code}" if code is not None else "the run failed"
    if reason and not tail:
        tail = reason
    return one_line(head + (f": {tail}" if tail else ""))
