"""The run state machine: QUEUED -> SUBMITTED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED.

Every change is checked here and stored as a transition with its time and reason; a change
the machine does not allow is refused (`ConflictError`), so a late poll result can never move
a finished run again."""

from __future__ import annotations

from enum import StrEnum

from mantle.errors import ConflictError


class RunStatus(StrEnum):
    queued = "QUEUED"
    submitted = "SUBMITTED"
    running = "RUNNING"
    succeeded = "SUCCEEDED"
    failed = "FAILED"
    cancelled = "CANCELLED"


FINISHED = frozenset({RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled})
ACTIVE = frozenset({RunStatus.queued, RunStatus.submitted, RunStatus.running})

ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.queued: frozenset({RunStatus.submitted, RunStatus.failed, RunStatus.cancelled}),
    RunStatus.submitted: frozenset(
        {RunStatus.running, RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled}
    ),
    RunStatus.running: frozenset({RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled}),
    RunStatus.succeeded: frozenset(),
    RunStatus.failed: frozenset(),
    RunStatus.cancelled: frozenset(),
}


def can_move(current: RunStatus | str, new: RunStatus | str) -> bool:
    return RunStatus(new) in ALLOWED[RunStatus(current)]


def check_move(current: RunStatus | str, new: RunStatus | str) -> None:
    if not can_move(current, new):
        raise ConflictError(
            f"a {RunStatus(current).value} run cannot become {RunStatus(new).value}"
        )
