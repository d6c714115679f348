"""What the monitor reads from a run directory (`mantle.rundir`): the trace, the tail of
launcher.log, outputs.json and run.json. A file that is missing or unreadable reads as
nothing (None, [] or ""), never as an error: the launcher may not have written it yet."""

from __future__ import annotations

import uuid

from mantle.errors import NotFoundError
from mantle.rundir import (
    LAUNCHER_LOG,
    OUTPUTS_JSON,
    TRACE_TSV,
    OutputsManifest,
    parse_trace,
)
from mantle.storage import ObjectStore

LOG_TAIL_BYTES = 64 * 1024


def _text(store: ObjectStore, key: str) -> str | None:
    try:
        return store.read_bytes(key).decode("utf-8", errors="replace")
    except NotFoundError:
        return None


def trace_rows(store: ObjectStore) -> list[dict[str, str]]:
    text = _text(store, TRACE_TSV)
    return parse_trace(text) if text else []


def log_tail(store: ObjectStore) -> str:
    try:
        size = store.head(LAUNCHER_LOG).size
        start = max(0, size - LOG_TAIL_BYTES)
        data = b"".join(store.get(LAUNCHER_LOG, byte_range=(start, None))) if size else b""
    except NotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text.split("\n", 1)[1] if start and "\n" in text else text  # drop a cut line


def manifest(store: ObjectStore) -> OutputsManifest | None:
    text = _text(store, OUTPUTS_JSON)
    if text is None:
        return None
    try:
        return OutputsManifest.model_validate_json(text)
    except ValueError:
        return None


def record_session(run, value: object) -> None:
    """Store the engine's session id (a UUID, as Nextflow makes them) on the run, for
    `-resume`; anything else (missing, malformed, too long) leaves the run as it is."""
    if not isinstance(value, str) or not value:
        return
    try:
        session = str(uuid.UUID(value))
    except ValueError:
        return
    if run.session_id != session:
        run.session_id = session
