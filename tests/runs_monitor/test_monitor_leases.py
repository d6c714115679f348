"""Claiming runs: two monitors never hold the same run; an expired lease is taken over; only
due SUBMITTED/RUNNING runs are claimed; runs are handed back with their next check."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from mantle.db.models import SqlRun
from mantle.executors.base import JobStatus
from mantle.runs.monitor import CycleStats
from mantle.runs.states import RunStatus


def test_two_monitors_never_claim_the_same_run(lab):
    runs = [lab.run() for _ in range(40)]
    first, second = lab.monitor("w1", batch_size=25), lab.monitor("w2", batch_size=25)
    got: dict[str, list] = {}
    barrier = threading.Barrier(2)

    def claim(monitor):
        barrier.wait()
        got[monitor.worker_id] = [c.id for c in monitor.claim()]

    threads = [threading.Thread(target=claim, args=(m,)) for m in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    one, two = set(got["w1"]), set(got["w2"])
    assert not one & two
    assert one | two == {r.id for r in runs}
    with lab.db.session() as s:
        owners = {row.id: row.monitor_owner for row in s.query(SqlRun)}
    assert all(owners[i] == "w1" for i in one) and all(owners[i] == "w2" for i in two)


def test_a_held_run_is_not_claimed_until_its_lease_expires(lab):
    run = lab.run()
    holder, other = lab.monitor("w1"), lab.monitor("w2")
    assert [c.id for c in holder.claim()] == [run.id]
    assert other.claim() == []
    later = datetime.now(UTC) + timedelta(seconds=61)  # the first worker died
    assert [c.id for c in other.claim(now=later)] == [run.id]
    assert lab.get(run).monitor_owner == "w2"


def test_only_due_active_runs_are_claimed(lab):
    due = lab.run(status=RunStatus.running)
    lab.run(status=RunStatus.queued)  # the submit job's business
    lab.run(status=RunStatus.succeeded)
    lab.run(next_check_at=datetime.now(UTC) + timedelta(minutes=5))
    assert [c.id for c in lab.monitor().claim()] == [due.id]


def test_a_cycle_hands_runs_back_with_a_next_check(lab):
    young = lab.run()
    old = lab.run(submitted_at=datetime.now(UTC) - timedelta(hours=3))
    stats = lab.monitor().cycle()
    assert stats.claimed == 2 and stats.polled == 2 and stats.groups == 1
    young_row, old_row = lab.get(young), lab.get(old)
    assert young_row.monitor_owner is None and old_row.monitor_owner is None
    now = datetime.now(UTC)
    assert timedelta(seconds=3) < _aware(young_row.next_check_at) - now <= timedelta(seconds=6)
    assert timedelta(seconds=55) < _aware(old_row.next_check_at) - now <= timedelta(seconds=61)
    assert lab.monitor().claim() == []  # not due again yet


def test_a_worker_that_lost_its_lease_changes_nothing(lab):
    run = lab.run()
    slow = lab.monitor("slow")
    claimed = slow.claim()
    later = datetime.now(UTC) + timedelta(seconds=61)
    lab.monitor("fast").claim(now=later)  # takes the run over
    lab.executor().set(run.external_id, JobStatus.running)
    slow._follow_group("g1", claimed, CycleStats())
    row = lab.get(run)
    assert row.status == "SUBMITTED" and row.monitor_owner == "fast"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
