"""A run's tasks: Nextflow's trace rows and weblog events turned into `SqlRunTask` rows.

Two sources describe the same tasks. The trace file in the run directory is the record of
truth (it survives anything); weblog events only make the table live while the run goes.
So a trace row overwrites what an event said, an event only fills in, and a task's status
never goes backwards (a late `process_started` cannot undo COMPLETED).

Nextflow writes trace times as `2026-12-01 13:00:00.123` in the head job's local time zone,
without saying which. Batch head jobs and the local launcher run in UTC (the head image sets
no TZ), so these times are read as UTC; event times are epoch milliseconds and exact.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle.db.dialects import insert_ignoring_conflicts
from mantle.db.models import SqlRunTask

# How far along a task is; a status only ever moves to a higher rank.
_RANK = {"": 0, "NEW": 1, "SUBMITTED": 2, "RUNNING": 3,
         "CACHED": 4, "COMPLETED": 4, "FAILED": 4, "ABORTED": 4}  # fmt: skip
TERMINAL = frozenset({"CACHED", "COMPLETED", "FAILED", "ABORTED"})
# What Nextflow sends for an exit status it does not know yet (Integer.MAX_VALUE).
_NO_EXIT = 2147483647

_FIELDS = (
    "hash", "native_id", "process", "tag", "name", "status", "exit_code", "attempt",
    "submitted_at", "started_at", "completed_at", "duration_ms", "realtime_ms", "cpu_percent",
    "peak_rss", "workdir",
)  # fmt: skip
_TEXT_LIMITS = {"hash": 32, "native_id": 256, "process": 512, "tag": 1024, "name": 1024,
                "status": 16, "workdir": 2048}  # fmt: skip

# --- Nextflow's value formats --------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTPEZ]?B)?", re.IGNORECASE)
_SIZE_POWER = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5, "EB": 6, "ZB": 7}


def _present(text: str | None) -> str | None:
    text = (text or "").strip()
    return None if text in ("", "-") else text


def parse_time(text: str | None) -> datetime | None:
    """`2026-12-01 13:00:00.123` (read as UTC, see the module's docstring)."""
    text = _present(text)
    if text is None:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def parse_duration(text: str | None) -> int | None:
    """Milliseconds of `1m 2s`, `123ms`, `1.5s`, `1d 2h 3m`; None for `-` or nonsense."""
    text = _present(text)
    if text is None:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        return None
    return round(sum(float(n) * _DURATION_MS[unit] for n, unit in parts))


def parse_percent(text: str | None) -> float | None:
    text = _present(text)
    try:
        return None if text is None else float(text.rstrip("%").strip())
    except ValueError:
        return None


def parse_size(text: str | None) -> int | None:
    """Bytes of `12.3 MB`, `1 GB`, `512 KB`, `100 B` (Nextflow's units are powers of 1024)."""
    text = _present(text)
    match = _SIZE.fullmatch(text) if text else None
    if match is None:
        return None
    unit = (match.group(2) or "B").upper()
    return round(float(match.group(1)) * 1024 ** _SIZE_POWER[unit])


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _present(str(value)) if value is not None else None
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def split_name(name: str) -> tuple[str, str]:
    """`FASTQC (sample1)` -> (`FASTQC`, `sample1`); a name without a tag has none."""
    if name.endswith(")") and " (" in name:
        process, _, tag = name[:-1].partition(" (")
        return process, tag
    return name, ""


# --- the two sources -----------------------------------------------------------------------


def from_trace_row(row: Mapping[str, str]) -> dict[str, Any] | None:
    """One trace row (`rundir.parse_trace`) as task values; None without a task id."""
    task_id = _int(row.get("task_id"))
    if task_id is None:
        return None
    name = _present(row.get("name")) or ""
    process, tag = split_name(name)
    exit_code = _int(row.get("exit"))
    values = {
        "task_id": task_id,
        "hash": _present(row.get("hash")),
        "native_id": _present(row.get("native_id")),
        "process": _present(row.get("process")) or process or None,
        "tag": _present(row.get("tag")) or tag or None,
        "name": name or None,
        "status": (_present(row.get("status")) or "").upper() or None,
        "exit_code": None if exit_code == _NO_EXIT else exit_code,
        "attempt": _int(row.get("attempt")),
        "submitted_at": parse_time(row.get("submit")),
        "started_at": parse_time(row.get("start")),
        "completed_at": parse_time(row.get("complete")),
        "duration_ms": parse_duration(row.get("duration")),
        "realtime_ms": parse_duration(row.get("realtime")),
        "cpu_percent": parse_percent(row.get("%cpu")),
        "peak_rss": parse_size(row.get("peak_rss")),
        "workdir": _present(row.get("workdir")),
    }
    return values


def _epoch_ms(value: Any) -> datetime | None:
    millis = _int(value)
    if not millis or millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return parse_percent(str(value))


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict | list) else _present(str(value))


def from_event(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """A weblog `process_submitted|started|completed` event's `trace` as task values; None
    for other events or a trace without a task id. Times are epoch millis, sizes bytes."""
    trace = event.get("trace")
    if not isinstance(trace, dict):
        return None
    task_id = _int(trace.get("task_id"))
    if task_id is None:
        return None
    name = _text(trace.get("name")) or ""
    process, tag = split_name(name)
    exit_code = _int(trace.get("exit"))
    duration = _int(trace.get("duration"))
    realtime = _int(trace.get("realtime"))
    peak_rss = _int(trace.get("peak_rss"))
    return {
        "task_id": task_id,
        "hash": _text(trace.get("hash")),
        "native_id": _text(trace.get("native_id")),
        "process": _text(trace.get("process")) or process or None,
        "tag": _text(trace.get("tag")) or tag or None,
        "name": name or None,
        "status": (_text(trace.get("status")) or "").upper() or None,
        "exit_code": None if exit_code == _NO_EXIT else exit_code,
        "attempt": _int(trace.get("attempt")),
        "submitted_at": _epoch_ms(trace.get("submit")),
        "started_at": _epoch_ms(trace.get("start")),
        "completed_at": _epoch_ms(trace.get("complete")),
        "duration_ms": duration if duration and duration > 0 else None,
        "realtime_ms": realtime if realtime and realtime > 0 else None,
        "cpu_percent": _number(trace.get("%cpu")),
        "peak_rss": peak_rss if peak_rss and peak_rss > 0 else None,
        "workdir": _text(trace.get("workdir")),
    }


# --- storing -------------------------------------------------------------------------------


def _merge(row: SqlRunTask, values: dict[str, Any], *, authoritative: bool) -> None:
    """Apply `values` to `row`. Authoritative (trace) values overwrite; event values only
    fill in, except while the event moves the task forward. Status never goes backwards."""
    new_status = values.get("status") or ""
    old_status = row.status or ""
    forward = _RANK.get(new_status, 0) > _RANK.get(old_status, 0)
    settle_terminal = authoritative and new_status in TERMINAL and old_status in TERMINAL
    for name in _FIELDS:
        value = values.get(name)
        if value is None:
            continue
        if name == "status":
            if forward or settle_terminal:
                row.status = value
            continue
        if authoritative or forward or getattr(row, name) in (None, ""):
            setattr(row, name, value)


def _clip(values: dict[str, Any]) -> dict[str, Any]:
    for name, limit in _TEXT_LIMITS.items():
        if isinstance(values.get(name), str):
            values[name] = values[name][:limit]
    return values


def upsert_tasks(
    session: Session,
    run_id: uuid.UUID,
    tenant_id: uuid.UUID,
    updates: Iterable[dict[str, Any] | None],
    *,
    authoritative: bool,
) -> int:
    """Insert or merge task values into the run's task table; `authoritative` for trace rows.
    Returns how many tasks were touched."""
    by_task: dict[int, dict[str, Any]] = {}
    for values in updates:
        if values is not None:
            by_task.setdefault(values["task_id"], {}).update(
                {k: v for k, v in _clip(values).items() if v is not None}
            )
    if not by_task:
        return 0
    _apply(session, run_id, tenant_id, by_task, authoritative)
    return len(by_task)


def _apply(session, run_id, tenant_id, by_task: dict[int, dict[str, Any]], authoritative: bool):
    ids = list(by_task)
    existing: dict[int, SqlRunTask] = {}
    for start in range(0, len(ids), 500):  # a big trace: stay under SQLite's variable limit
        chunk = ids[start : start + 500]
        query = select(SqlRunTask).where(SqlRunTask.run_id == run_id, SqlRunTask.task_id.in_(chunk))
        existing.update((row.task_id, row) for row in session.scalars(query))
    missing = [task_id for task_id in ids if task_id not in existing]
    if missing:
        # Bare rows first, ignoring any a concurrent writer (the weblog endpoint, the monitor)
        # inserted meanwhile; then everything is merged the same way.
        session.execute(
            insert_ignoring_conflicts(session, SqlRunTask.__table__),
            [{"run_id": run_id, "task_id": task_id, "tenant_id": tenant_id, "status": "",
              "updated_at": datetime.now(UTC)} for task_id in missing],
        )  # fmt: skip
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            query = (
                select(SqlRunTask)
                .where(SqlRunTask.run_id == run_id, SqlRunTask.task_id.in_(chunk))
                .execution_options(populate_existing=True)
            )
            existing.update((row.task_id, row) for row in session.scalars(query))
    now = datetime.now(UTC)
    for task_id, values in by_task.items():
        row = existing[task_id]
        _merge(row, values, authoritative=authoritative)
        row.updated_at = now
    session.flush()
