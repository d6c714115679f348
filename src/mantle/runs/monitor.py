"""The run monitor: a loop next to the job worker that follows active runs to their end.

One cycle:
1. claim up to `batch_size` due runs (SUBMITTED or RUNNING, `next_check_at` passed, no live
   lease) by writing this worker's id and a lease into them in one conditional UPDATE (on
   PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`), so no two workers ever
   hold the same run and a dead worker's runs are taken over once its lease expires;
2. group them by `executor_group` (runs whose executors share credentials and region, across
   tenants) and poll each group with one executor, built from the group's first run; the
   executor batches its calls (Batch: 100 ids per DescribeJobs);
3. apply each state: pending stays, running -> RUNNING (and the trace is read into the task
   table when it changed), succeeded -> outputs become datasets -> SUCCEEDED, failed ->
   FAILED with one line a scientist can act on (`runs.failure`);
4. set `next_check_at` (seconds for young runs, up to a minute for old ones) and release.

QUEUED runs are the submit job's business and are not claimed here. Errors are sorted: one
group's failure never stops the others; a retryable error (throttling, 5xx, network) leaves
its runs for the next cycle; a permanent one (credentials revoked, environment deleted) is
retried `failures_before_failing` cycles in a row (IAM changes take a moment to propagate,
and a single bad answer should not kill a week-long run), then fails the group's runs with
the message. The count is kept per worker, in memory: a restarted worker starts again at 0.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from mantle.db.engine import Database
from mantle.db.models import SqlRun
from mantle.errors import MantleError, NotFoundError
from mantle.executors.base import Executor, JobState, JobStatus
from mantle.jobs.retry import as_mantle_error
from mantle.rundir import (
    TRACE_TSV,
)
from mantle.runs import failure, outputs, placement, run_files, tasks, transitions
from mantle.runs.states import FINISHED, RunStatus
from mantle.storage import ObjectStore

log = logging.getLogger(__name__)

MONITORED = (RunStatus.submitted.value, RunStatus.running.value)

# The runs package's operations (placement, transitions), injectable for tests.
ExecutorFor = Callable[[Any, Session, SqlRun], Executor]
RunStoreFor = Callable[[Any, Session, SqlRun], ObjectStore]
Move = Callable[..., bool]


@dataclass
class CycleStats:
    claimed: int = 0
    groups: int = 0
    polled: int = 0  # job ids asked about
    moved: Counter = field(default_factory=Counter)  # new status -> runs moved there
    group_errors: int = 0
    run_errors: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Claimed:
    """What a cycle needs of a claimed run (read in the claiming UPDATE's RETURNING)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: str
    external_id: str | None
    group: str
    age: timedelta


class RunMonitor:
    def __init__(
        self,
        db: Database,
        services: Any,
        *,
        worker_id: str,
        batch_size: int = 500,
        lease: timedelta = timedelta(seconds=60),
        interval: timedelta = timedelta(seconds=5),
        max_interval: timedelta = timedelta(seconds=60),
        trace_every: timedelta = timedelta(seconds=30),
        failures_before_failing: int = 3,
        executor_for: ExecutorFor | None = None,
        run_store: RunStoreFor | None = None,
        move: Move | None = None,
        match_outputs: outputs.Matcher | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease = lease
        self.interval = interval
        self.max_interval = max_interval
        self.trace_every = trace_every
        self.failures_before_failing = failures_before_failing
        self._executor_for = executor_for
        self._run_store = run_store
        self._move = move
        self._match = match_outputs
        self._failures: Counter[str] = Counter()
        self._trace_seen: dict[uuid.UUID, tuple[str, float]] = {}  # run -> (etag, when read)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the hooks into the runs package -------------------------------------------------

    def executor_for(self, session: Session, run: SqlRun) -> Executor:
        return (self._executor_for or placement.executor_for)(self.services, session, run)

    def run_store(self, session: Session, run: SqlRun) -> ObjectStore:
        return (self._run_store or placement.run_store)(self.services, session, run)

    def move(
        self, session: Session, run: SqlRun, new: RunStatus, reason: str = "", *, at=None
    ) -> bool:
        return (self._move or transitions.move)(session, run, new, reason, at=at)

    # --- one cycle -------------------------------------------------------------------------

    def cycle(self, now: datetime | None = None) -> CycleStats:
        started = time.monotonic()
        stats = CycleStats()
        claimed = self.claim(now)
        stats.claimed = len(claimed)
        groups: dict[str, list[Claimed]] = defaultdict(list)
        for run in claimed:
            groups[run.group].append(run)
        stats.groups = len(groups)
        for key, runs in groups.items():
            try:
                self._follow_group(key, runs, stats)
            except Exception as raised:  # one group's trouble never stops the others
                stats.group_errors += 1
                log.exception("run monitor: group %s: unexpected error", key, exc_info=raised)
                self._release_later(runs)
        self._forget_old_traces()
        stats.seconds = time.monotonic() - started
        return stats

    def _forget_old_traces(self) -> None:
        """Drop what this worker remembers of traces it has not looked at for a long while
        (runs that ended under another worker), so the memory stays bounded."""
        horizon = time.monotonic() - max(600.0, 10 * self.trace_every.total_seconds())
        if len(self._trace_seen) > 1000:
            for run_id, (_version, seen) in list(self._trace_seen.items()):
                if seen < horizon:
                    del self._trace_seen[run_id]

    def claim(self, now: datetime | None = None) -> list[Claimed]:
        """Take up to `batch_size` due runs under this worker's lease (see module docstring)."""
        at = now or datetime.now(UTC)
        due = and_(
            SqlRun.status.in_(MONITORED),
            or_(SqlRun.next_check_at.is_(None), SqlRun.next_check_at <= at),
            or_(SqlRun.monitor_lease_until.is_(None), SqlRun.monitor_lease_until < at),
        )
        candidates = (
            select(SqlRun.id)
            .where(due)
            # A group's runs together: a batch smaller than the due runs still polls each
            # group in full chunks of 100.
            .order_by(SqlRun.executor_group, SqlRun.next_check_at)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serializes writers
        )
        with self.db.session() as session:
            rows = session.execute(
                update(SqlRun)
                .where(SqlRun.id.in_(candidates), due)  # re-checked: at most one claim wins
                .values(monitor_owner=self.worker_id, monitor_lease_until=at + self.lease)
                .returning(
                    SqlRun.id,
                    SqlRun.tenant_id,
                    SqlRun.status,
                    SqlRun.external_id,
                    SqlRun.executor_group,
                    SqlRun.executor,
                    SqlRun.environment_id,
                    SqlRun.submitted_at,
                    SqlRun.created_at,
                )  # fmt: skip
                .execution_options(synchronize_session=False)
            ).all()
        return [_claimed(row, at) for row in rows]

    def _follow_group(self, key: str, runs: list[Claimed], stats: CycleStats) -> None:
        pollable = [r for r in runs if r.external_id]
        if len(pollable) < len(runs):  # not submitted yet, or lost: look again later
            self._release_later([r for r in runs if not r.external_id])
        if not pollable:
            return
        try:
            with self.db.session() as session:
                executor = self.executor_for(session, session.get(SqlRun, pollable[0].id))
        except Exception as raised:
            if len(pollable) > 1:  # that run's environment, say, is gone: try each on its own
                log.info("run monitor: group %s: %s; polling its runs one by one", key, raised)
                for run in pollable:
                    self._follow_group(f"{key}/{run.id}", [run], stats)
                return
            stats.group_errors += 1
            self._group_failed(key, pollable, as_mantle_error(raised, "run monitor"), stats)
            return
        try:
            states = executor.poll([r.external_id for r in pollable])
        except Exception as raised:
            stats.group_errors += 1
            self._group_failed(key, pollable, as_mantle_error(raised, "run monitor"), stats)
            return
        self._failures.pop(key, None)
        stats.polled += len(pollable)
        unchanged: list[Claimed] = []
        stores = self._stores(
            [r for r in pollable if _status(states.get(r.external_id)) is JobStatus.running
             and self._trace_due(r.id)]
        )  # fmt: skip
        for run in pollable:
            state = states.get(run.external_id)
            try:
                if not self._apply(run, state, stats, stores.get(run.id)):
                    unchanged.append(run)
                self._failures.pop(f"run:{run.id}", None)
            except Exception as raised:
                stats.run_errors += 1
                self._run_failed(run, as_mantle_error(raised, "run monitor"), stats)
        self._release_later(unchanged)

    def _run_failed(self, run: Claimed, error: MantleError, stats: CycleStats) -> None:
        """One run could not be handled (its run directory unreadable, its environment gone):
        retried next cycle; a permanent error that repeats fails the run with its message."""
        log.warning("run monitor: run %s: %s", run.id, error.message)
        key = f"run:{run.id}"
        if not error.retryable:
            self._failures[key] += 1
        if self._failures[key] < self.failures_before_failing:
            self._release_later([run])
            return
        self._failures.pop(key, None)
        reason = failure.one_line(f"the run cannot be followed: {error.message}")
        with self.db.session() as session:
            row = self._own(session, run.id)
            if row is not None and self._finish(session, row, RunStatus.failed, reason):
                stats.moved[RunStatus.failed.value] += 1

    def _group_failed(self, key: str, runs: list[Claimed], error: MantleError, stats) -> None:
        if error.retryable:
            log.info("run monitor: group %s: %s; trying again next cycle", key, error.message)
            self._release_later(runs)
            return
        self._failures[key] += 1
        count = self._failures[key]
        if count < self.failures_before_failing:
            log.warning("run monitor: group %s: %s (%d of %d before its runs fail)", key,
                        error.message, count, self.failures_before_failing)  # fmt: skip
            self._release_later(runs)
            return
        reason = failure.one_line(f"the run's state cannot be read: {error.message}")
        for run in runs:
            with self.db.session() as session:
                row = self._own(session, run.id)
                if row is not None and self._finish(session, row, RunStatus.failed, reason):
                    stats.moved[RunStatus.failed.value] += 1
        self._failures.pop(key, None)

    # --- one run ---------------------------------------------------------------------------

    def _own(self, session: Session, run_id: uuid.UUID) -> SqlRun | None:
        """The run, locked, if this worker still holds it and it is not finished."""
        row = session.scalar(select(SqlRun).where(SqlRun.id == run_id).with_for_update())
        if row is None or row.monitor_owner != self.worker_id:
            return None  # lease lost (a slow cycle) or run deleted: someone else's now
        if RunStatus(row.status) in FINISHED:  # cancelled meanwhile
            self._release(row)
            return None
        return row

    def _stores(self, runs: list[Claimed]) -> dict[uuid.UUID, ObjectStore]:
        """The run directories of these runs, looked up in one session (for the trace check of
        running runs, which mostly finds nothing new and then needs no session of its own)."""
        if not runs:
            return {}
        stores = {}
        with self.db.session() as session:
            rows = session.scalars(select(SqlRun).where(SqlRun.id.in_([r.id for r in runs])))
            for row in rows:
                try:
                    stores[row.id] = self.run_store(session, row)
                except MantleError as e:  # its trace waits; `_apply` meets the error again
                    log.info("run monitor: run %s: %s", row.id, e.message)
        return stores

    def _apply(self, run: Claimed, state: JobState | None, stats: CycleStats, store=None) -> bool:
        """Act on one run's state; False when nothing changed (released in bulk later)."""
        status = _status(state)
        if status is JobStatus.pending:
            return False
        if status is JobStatus.running:
            return self._running(run, stats, store)
        with self.db.session() as session:
            row = self._own(session, run.id)
            if row is None:
                return True
            store = store or self.run_store(session, row)
            trace_rows = self._sync_trace(session, row, store)
        if status is JobStatus.succeeded:
            moved = self._succeeded(run, state, store, trace_rows)
        else:
            moved = self._failed(run, state, store, trace_rows)
        if moved:
            stats.moved[moved] += 1
        self._trace_seen.pop(run.id, None)
        return True

    def _succeeded(self, run: Claimed, state: JobState, store: ObjectStore, trace) -> str | None:
        with self.db.session() as session:
            row = self._own(session, run.id)
            if row is None:
                return None
            manifest = run_files.manifest(store)
            if manifest is not None:
                run_files.record_session(row, manifest.session_id)
            if manifest is None or manifest.exit_code != 0:
                problem = (
                    "the launcher ended without writing outputs.json"
                    if manifest is None
                    else f"the launcher reported exit code {manifest.exit_code}"
                )
                failed = JobState(state.job_id, JobStatus.failed, problem, state.exit_code)
                reason = failure.explain(failed, trace or [], run_files.log_tail(store))
                row.exit_code = manifest.exit_code if manifest else state.exit_code
                self._ran(session, row, state)
                return "FAILED" if self._finish(session, row, RunStatus.failed, reason) else None
            if row.outputs_state != outputs.DONE:
                row.outputs_state = outputs.PENDING  # visible while the catalog work goes on
        with self.db.session() as session:  # one transaction: outputs, lineage, SUCCEEDED
            row = self._own(session, run.id)
            if row is None:
                return None
            ingested = outputs.ingest(
                session, self.services.catalog, row, manifest, store,
                match=self._match,
            )  # fmt: skip
            row.exit_code = manifest.exit_code
            reason = ingested.summary()
            self._ran(session, row, state)
            return "SUCCEEDED" if self._finish(session, row, RunStatus.succeeded, reason) else None

    def _failed(self, run: Claimed, state: JobState, store: ObjectStore, trace) -> str | None:
        with self.db.session() as session:
            row = self._own(session, run.id)
            if row is None:
                return None
            manifest = run_files.manifest(store)  # a failed engine still writes one
            if manifest is not None:
                run_files.record_session(row, manifest.session_id)
            reason = failure.explain(state, trace or [], run_files.log_tail(store))
            row.exit_code = state.exit_code
            self._ran(session, row, state)
            return "FAILED" if self._finish(session, row, RunStatus.failed, reason) else None

    def _ran(self, session: Session, row: SqlRun, state: JobState) -> None:
        """A head job that started and ended between two looks still ran: its RUNNING comes
        first in the timeline, at the time the executor says it started."""
        if row.status == RunStatus.submitted and state.started_at is not None:
            # A local job may start before its submission is recorded: keep the order.
            at = max(state.started_at, row.submitted_at or state.started_at)
            self.move(session, row, RunStatus.running, "the head job ran", at=at)

    def _finish(self, session: Session, row: SqlRun, new: RunStatus, reason: str) -> bool:
        moved = self.move(session, row, new, reason)  # it records the reason too
        self._release(row)
        return moved

    def _running(self, run: Claimed, stats: CycleStats, store: ObjectStore | None) -> bool:
        changed = self._trace_changed(run.id, store) if store is not None else None
        if run.status == RunStatus.running and changed is None:
            return False
        with self.db.session() as session:
            row = self._own(session, run.id)
            if row is None:
                return True
            if row.status == RunStatus.submitted and self.move(
                session, row, RunStatus.running, "the head job is running"
            ):
                stats.moved[RunStatus.running.value] += 1
            if changed is not None:
                self._sync_trace(session, row, store or self.run_store(session, row), changed)
            self._release(row, self._next_check(run.age))
        return True

    # --- the trace -------------------------------------------------------------------------

    def _trace_due(self, run_id: uuid.UUID) -> bool:
        seen = self._trace_seen.get(run_id)
        return seen is None or time.monotonic() - seen[1] >= self.trace_every.total_seconds()

    def _trace_changed(self, run_id: uuid.UUID, store: ObjectStore) -> str | None:
        """trace.tsv's version (etag and size) when it changed since this worker last read
        it, else None (and the check is remembered, so the next is `trace_every` away)."""
        try:
            info = store.head(TRACE_TSV)
        except NotFoundError:
            self._trace_seen[run_id] = ("", time.monotonic())
            return None
        version = f"{info.etag}:{info.size}"
        seen = self._trace_seen.get(run_id)
        if seen is not None and seen[0] == version:
            self._trace_seen[run_id] = (version, time.monotonic())
            return None
        return version

    def _sync_trace(self, session, row: SqlRun, store: ObjectStore, version: str = ""):
        """Read trace.tsv into the task table (the record of truth). Returns its rows."""
        rows = run_files.trace_rows(store)
        tasks.upsert_tasks(
            session, row.id, row.tenant_id, (tasks.from_trace_row(r) for r in rows),
            authoritative=True,
        )  # fmt: skip
        self._trace_seen[row.id] = (version, time.monotonic())
        return rows

    # --- leases ----------------------------------------------------------------------------

    def _next_check(self, age: timedelta) -> datetime:
        """Young runs are looked at every `interval`; older ones less often (a twentieth of
        their age), up to `max_interval`."""
        delay = min(self.max_interval, max(self.interval, age / 20))
        return datetime.now(UTC) + delay

    def _release(self, row: SqlRun, next_check: datetime | None = None) -> None:
        row.monitor_owner = None
        row.monitor_lease_until = None
        row.next_check_at = next_check

    def _release_later(self, runs: Sequence[Claimed]) -> None:
        """Hand runs back with their next check set, in a few UPDATEs (one per distinct
        delay, rounded to the second) rather than one per run."""
        by_time: dict[datetime, list[uuid.UUID]] = defaultdict(list)
        for run in runs:
            by_time[self._next_check(run.age).replace(microsecond=0)].append(run.id)
        with self.db.session() as session:
            for at, ids in by_time.items():
                for start in range(0, len(ids), 500):
                    session.execute(
                        update(SqlRun)
                        .where(
                            SqlRun.id.in_(ids[start : start + 500]),
                            SqlRun.monitor_owner == self.worker_id,
                        )  # fmt: skip
                        .values(monitor_owner=None, monitor_lease_until=None, next_check_at=at)
                        .execution_options(synchronize_session=False)
                    )

    # --- the thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                stats = self.cycle()
                busy = stats.claimed >= self.batch_size
            except MantleError as e:  # e.g. the database blinked: try again next time
                log.warning("run monitor %s: %s", self.worker_id, e.message)
                busy = False
            except Exception:
                log.exception("run monitor %s: unexpected error; carrying on", self.worker_id)
                busy = False
            if not busy:
                self._stop.wait(self.interval.total_seconds())

    def start(self) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mantle-run-monitor", daemon=True)
        self._thread.start()
        return self._thread

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float | None = 30.0) -> bool:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True


def _status(state: JobState | None) -> JobStatus:
    return JobStatus(state.status) if state else JobStatus.pending


def _claimed(row, at: datetime) -> Claimed:
    since = row.submitted_at or row.created_at or at
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    group = row.executor_group or f"{row.executor}:{row.environment_id or 'local'}"
    age = max(at - since, timedelta())
    return Claimed(id=row.id, tenant_id=row.tenant_id, status=row.status,
                   external_id=row.external_id, group=group, age=age)  # fmt: skip
