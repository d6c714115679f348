"""`transitions.move`: each change recorded with its sequence, time and reason; timestamps
kept; a repeated move is a no-op and an illegal one is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mantle.db.models import SqlRun, SqlRunTransition
from mantle.errors import ConflictError
from mantle.runs.states import RunStatus
from mantle.runs.transitions import move


@pytest.fixture
def run_id(lab) -> uuid.UUID:
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})
    return uuid.UUID(run["id"])


def test_moves_are_recorded_in_order(database, run_id, lab):
    started = datetime(2027, 1, 1, 12, tzinfo=UTC)
    with database.session() as s:
        run = s.get(SqlRun, run_id)
        assert move(s, run, RunStatus.running, "head job running", at=started)
        assert not move(s, run, RunStatus.running, "again")  # no-op
        assert move(s, run, RunStatus.failed, "process FOO exited 1")
    with database.session() as s:
        run = s.get(SqlRun, run_id)
        rows = s.scalars(
            select(SqlRunTransition)
            .where(SqlRunTransition.run_id == run_id)
            .order_by(SqlRunTransition.seq)
        ).all()
        assert [(r.seq, r.from_status, r.to_status) for r in rows] == [
            (1, None, "QUEUED"),
            (2, "QUEUED", "SUBMITTED"),
            (3, "SUBMITTED", "RUNNING"),
            (4, "RUNNING", "FAILED"),
        ]
        assert run.started_at == started and run.finished_at is not None
        assert run.submitted_at is not None and run.status_reason == "process FOO exited 1"
    timeline = lab.ok("GET", f"/runs/{run_id}/transitions")
    assert [t["to_status"] for t in timeline] == ["QUEUED", "SUBMITTED", "RUNNING", "FAILED"]
    assert timeline[0]["reason"] == "launched by alice@example.com"


def test_a_finished_run_cannot_move_again(database, run_id):
    with database.session() as s:
        run = s.get(SqlRun, run_id)
        move(s, run, RunStatus.succeeded)
        with pytest.raises(ConflictError, match="SUCCEEDED run cannot become RUNNING"):
            move(s, run, RunStatus.running)
        assert run.status == "SUCCEEDED"
