"""Moving a run through its state machine: check the move (`states.check_move`), record it as
a transition with the next sequence number, and keep the run's own timestamps and reason in
step. The API (launch, cancel) and the monitor both move runs only through `move`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mantle.db.models import SqlRun, SqlRunTransition
from mantle.runs.states import FINISHED, RunStatus, check_move

MAX_REASON = 4000


def record(
    session: Session,
    run: SqlRun,
    previous: RunStatus | None,
    new: RunStatus,
    reason: str,
    at: datetime,
) -> SqlRunTransition:
    """Store one transition row with the run's next sequence number."""
    last = session.scalar(
        select(func.max(SqlRunTransition.seq)).where(SqlRunTransition.run_id == run.id)
    )
    row = SqlRunTransition(
        run_id=run.id,
        seq=(last or 0) + 1,
        from_status=previous.value if previous else None,
        to_status=new.value,
        reason=reason[:MAX_REASON],
        at=at,
    )
    session.add(row)
    return row


def move(
    session: Session,
    run: SqlRun,
    new: RunStatus,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> bool:
    """Move `run` to `new` with `reason`. Returns False, changing nothing, when the run is in
    `new` already (a repeated poll result); raises `ConflictError` on a move the state machine
    refuses (a late result for a finished run)."""
    current = RunStatus(run.status)
    new = RunStatus(new)
    if current == new:
        return False
    check_move(current, new)
    at = at or datetime.now(UTC)
    record(session, run, current, new, reason, at)
    run.status = new.value
    if reason or new in FINISHED:
        run.status_reason = reason[:MAX_REASON]
    if new == RunStatus.submitted and run.submitted_at is None:
        run.submitted_at = at
    if new == RunStatus.running and run.started_at is None:
        run.started_at = at
    if new in FINISHED and run.finished_at is None:
        run.finished_at = at
    run.updated_at = at
    session.flush()
    return True
