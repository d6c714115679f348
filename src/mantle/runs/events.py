"""Nextflow's `-with-weblog` events for one run: who may post them, and what they change.

Each run has its own events secret, made at launch (`secrets.token_urlsafe(32)`), stored only
as its SHA-256 (`SqlRun.events_secret_hash`) and handed to the engine inside the weblog URL
in run.json. The secret is the only credential: a wrong secret and an unknown run get the
same 404 (compared in constant time), and a finished run refuses every event (410), so the
URL stops working when the run ends.

What an event changes: `process_submitted|started|completed` update the task table (events
only fill in; the trace file, read by the monitor, has the last word), and `started` moves a
SUBMITTED run to RUNNING and records Nextflow's session id (`runId`) for `-resume`.
`completed` and `error` do not end the run (it ends when its executor says so and the outputs
manifest is read, `runs.monitor`); they ask the monitor to look at it now rather than at its
next scheduled check.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle.db.models import SqlRun
from mantle.errors import GoneError, InvalidInputError, NotFoundError
from mantle.runs import run_files, tasks
from mantle.runs.states import FINISHED, RunStatus

TASK_EVENTS = frozenset({"process_submitted", "process_started", "process_completed"})
KNOWN_EVENTS = TASK_EVENTS | {"started", "completed", "error"}
_NOT_FOUND = "run not found"  # the same words for an unknown run and a wrong secret


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authorized_run(session: Session, run_id: str, token: str | None) -> SqlRun:
    """The run this secret belongs to, locked for the event's changes; 404 for an unknown run
    or a wrong secret (indistinguishable), 410 for a finished run."""
    try:
        key = uuid.UUID(run_id)
    except ValueError:
        key = None
    row = (
        session.scalar(select(SqlRun).where(SqlRun.id == key).with_for_update())
        if key is not None
        else None
    )
    expected = (row.events_secret_hash if row is not None else None) or ""
    presented = secret_digest(token or "")
    # Compare even when there is no run, so both answers take the same time.
    matches = hmac.compare_digest(presented, expected or "0" * 64) and bool(expected)
    if row is None or not token or not matches:
        raise NotFoundError(_NOT_FOUND)
    if RunStatus(row.status) in FINISHED:
        raise GoneError("this run has ended; its event endpoint accepts no more events")
    return row


def check_event(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise InvalidInputError("a weblog event is a JSON object with an 'event' name")
    if "trace" in payload and not isinstance(payload["trace"], dict | type(None)):
        raise InvalidInputError("a weblog event's 'trace' must be an object")
    return payload


def apply_event(
    session: Session,
    run: SqlRun,
    event: Mapping[str, Any],
    move: Callable[..., bool],
) -> None:
    """Record one event of `run` (see the module docstring)."""
    name = event["event"]
    if name == "started":
        run_files.record_session(run, event.get("runId"))
    if name == "started" and run.status == RunStatus.submitted:
        move(session, run, RunStatus.running, "Nextflow started")
    elif name in ("completed", "error"):
        run.next_check_at = datetime.now(UTC)
    elif name in TASK_EVENTS:
        values = tasks.from_event(event)
        tasks.upsert_tasks(session, run.id, run.tenant_id, [values], authoritative=False)
