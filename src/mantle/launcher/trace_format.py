"""Nextflow's trace file format, for the traces the launcher writes itself (script runs):
the same columns and the same value formats as `nextflow run -with-trace`, so the platform
reads every engine's tasks with one parser (`mantle.rundir.parse_trace`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from mantle.rundir import DEFAULT_TRACE_FIELDS

# The default fields, plus what the task table shows and Nextflow writes when asked.
TRACE_FIELDS = (*DEFAULT_TRACE_FIELDS, "process", "tag", "start", "complete", "workdir")
_MEMORY_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def timestamp(epoch_seconds: float) -> str:
    """`2026-12-01 13:00:00.123` (UTC, the zone of a Batch head job)."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def duration(seconds: float) -> str:
    """`350ms`, `1.2s`, `5s`, `1m 5s`, `2h 3m 4s`, `1d 2h 3m 4s`, as Nextflow prints them."""
    millis = max(int(round(seconds * 1000)), 0)
    if millis < 1000:
        return f"{millis}ms"
    if millis < 60_000:
        return f"{_trim(millis / 1000)}s"
    whole = millis // 1000
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        count, whole = divmod(whole, size)
        if count or (unit == "s" and not parts):
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def memory(size_bytes: int | None) -> str:
    """`0`, `512 B`, `12.3 MB`, `1 GB`."""
    if size_bytes is None:
        return "-"
    if size_bytes <= 0:
        return "0"
    value, unit = float(size_bytes), 0
    while value >= 1024 and unit < len(_MEMORY_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{_trim(value)} {_MEMORY_UNITS[unit]}"


def percent(value: float) -> str:
    return f"{value:.1f}%"


def _trim(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def trace_text(rows: list[Mapping[str, object]], fields: tuple[str, ...] = TRACE_FIELDS) -> str:
    """A trace file: the header line, then one tab-separated line per task ("-" if unknown)."""
    lines = ["\t".join(fields)]
    for row in rows:
        values = (str(row.get(f, "-")).replace("\t", " ").replace("\n", " ") for f in fields)
        lines.append("\t".join(values))
    return "\n".join(lines) + "\n"
