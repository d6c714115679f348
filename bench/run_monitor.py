"""Run monitor benchmark: one monitor cycle over 5,000 active runs of 50 tenants that share 5
credential groups, against the naive way (one DescribeJobs per run), in the same run.

    .venv/bin/python bench/run_monitor.py [--runs 5000] [--tenants 50] [--groups 5]
        [--batch emulator|stand-in] [--latency-ms 20] [--database sqlite|postgresql]

Steps: a fresh database (SQLite file, or `mantle_bench_<random>` on PostgreSQL), migrated;
tenants, users, a pipeline each; the runs bulk-inserted (90 % RUNNING, 10 % SUBMITTED), tenant
i in credential group i mod G. Batch is the project's emulator (tests/batch_emulator, on
loopback; its jobs seeded, 90 % RUNNING and 10 % RUNNABLE) polled through the real
`AwsBatchExecutor`, one per credential group (its own credentials and group key), the
emulator counting the DescribeJobs calls it answered; or, with `--batch stand-in`, an
in-process Batch that answers after `--latency-ms` (a round trip to the Batch API in a
region). Then, on the same database: a cold cycle (the first look at every run, which also
checks each running run's trace.tsv), a warm cycle (what a monitor does every few seconds),
and the baseline, a warm cycle whose executors ask DescribeJobs once per run. Printed: calls
per cycle next to the bound ceil(n/100) + groups, and each cycle's wall time. See README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from mantle.aws.session import AwsCredentials
from mantle.catalog.service import Catalog
from mantle.db import migrate
from mantle.db.engine import Database
from mantle.db.models import SqlPipeline, SqlPipelineVersion, SqlRun, SqlTenant, SqlUser
from mantle.executors.awsbatch import AwsBatchExecutor, BatchTarget
from mantle.executors.base import Executor, JobState, JobStatus, LogPage
from mantle.runs.monitor import RunMonitor
from mantle.runs.states import RunStatus, check_move
from mantle.settings import CatalogSettings
from mantle.storage import open_object_store

ADMIN_URL = os.environ.get(
    "MANTLE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DESCRIBE_LIMIT = 100  # Batch's DescribeJobs takes at most 100 job ids


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class BatchStandIn(Executor):
    """A credential group's Batch API: DescribeJobs costs one round trip per call."""

    name = "awsbatch"

    def __init__(self, group: str, latency: float, states: dict[str, JobStatus]) -> None:
        self.group, self.latency, self.states = group, latency, states
        self.calls = 0

    @property
    def group_key(self) -> str:
        return self.group

    def describe_jobs(self, ids: Sequence[str]) -> dict[str, JobState]:
        assert len(ids) <= DESCRIBE_LIMIT
        self.calls += 1
        time.sleep(self.latency)
        return {i: JobState(i, self.states.get(i, JobStatus.pending)) for i in ids}

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        found: dict[str, JobState] = {}
        for start in range(0, len(job_ids), DESCRIBE_LIMIT):
            found.update(self.describe_jobs(job_ids[start : start + DESCRIBE_LIMIT]))
        return found

    def submit(self, job):
        raise NotImplementedError

    def cancel(self, job_id, *, reason, task_ids=()):
        pass

    def logs(self, job_id, cursor=None, *, limit=1000):
        return LogPage([], cursor)


class NaiveStandIn(BatchStandIn):
    """The baseline: every run asks for its own job, one DescribeJobs call each."""

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        found: dict[str, JobState] = {}
        for job_id in job_ids:
            found.update(self.describe_jobs([job_id]))
        return found


class NaiveAwsBatch(AwsBatchExecutor):
    """The baseline on the emulator: one DescribeJobs call per run."""

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        found: dict[str, JobState] = {}
        for job_id in job_ids:
            found.update(super().poll([job_id]))
        return found


def emulator_executors(emulator, groups: list[str], naive: bool) -> dict[str, Executor]:
    """One executor per credential group, each with its own credentials, like environments of
    five AWS accounts."""
    target = BatchTarget(region=emulator.region, head_queue="mantle-head",
                         compute_queue="mantle-compute", head_image="mantle-head:bench",
                         head_vcpus=1, head_memory_mib=2048)  # fmt: skip
    cls = NaiveAwsBatch if naive else AwsBatchExecutor
    made = {}
    for group in groups:
        credentials = AwsCredentials(access_key_id=f"AKIA{group.upper()}", secret_access_key="x")
        made[group] = cls(emulator.connection(credentials), target, group_key=group)
    return made


def move(session, run, new: RunStatus, reason: str = "", *, at=None) -> bool:
    """State change without transition rows (the runs package's `move` records them)."""
    if run.status == new:
        return False
    check_move(run.status, new)
    run.status = new.value
    return True


# --- seeding ------------------------------------------------------------------------------


def seed(db: Database, runs: int, tenants: int, groups: int, job_ids=None) -> dict:
    """The runs; `job_ids(running: bool)` gives each its Batch job id (default: made up)."""
    states: dict[str, JobStatus] = {}
    now = datetime.now(UTC)
    rows = []
    with db.session() as s:
        for t in range(tenants):
            tenant = SqlTenant(slug=f"lab-{t:03d}", name=f"Lab {t}")
            user = SqlUser(email=f"sci@lab-{t:03d}.example", password_hash="x")
            s.add_all([tenant, user])
            s.flush()
            pipeline = SqlPipeline(tenant_id=tenant.id, name="rnaseq", engine="nextflow")
            s.add(pipeline)
            s.flush()
            version = SqlPipelineVersion(pipeline_id=pipeline.id, tenant_id=tenant.id, version=1)
            s.add(version)
            s.flush()
            for n in range(runs // tenants):
                running = n % 10 != 0
                job_id = job_ids(running) if job_ids else str(uuid.uuid4())
                states[job_id] = JobStatus.running if running else JobStatus.pending
                rows.append({
                    "id": uuid.uuid4(), "tenant_id": tenant.id, "number": n + 1,
                    "name": f"run {n + 1}", "pipeline_id": pipeline.id,
                    "pipeline_version_id": version.id, "executor": "awsbatch",
                    "status": (RunStatus.running if running else RunStatus.submitted).value,
                    "external_id": job_id, "executor_group": f"account-{t % groups}",
                    "created_at": now - timedelta(minutes=5), "updated_at": now,
                    "submitted_at": now - timedelta(minutes=5), "outputs_state": "",
                    "params": {}, "inputs": {}, "labels": [], "status_reason": "",
                    "commit": "", "run_dir": "", "work_dir": "", "session_id": "",
                    "created_by": user.email,
                })  # fmt: skip
        for start in range(0, len(rows), 1000):
            s.execute(SqlRun.__table__.insert(), rows[start : start + 1000])
    return states


def seed_runs(db: Database, args, job_ids=None) -> dict[str, JobStatus]:
    started = time.perf_counter()
    states = seed(db, args.runs, args.tenants, args.groups, job_ids)
    log(f"seeded {len(states)} runs of {args.tenants} tenants in {args.groups} groups "
        f"({args.database}) in {time.perf_counter() - started:.1f} s")  # fmt: skip
    return states


def make_due(db: Database) -> None:
    with db.session() as s:
        s.execute(update(SqlRun).values(next_check_at=None))


# --- the cycles ---------------------------------------------------------------------------


def make_monitor(db, services, executors: dict[str, Executor], runs: int) -> RunMonitor:
    """One monitor for every cycle, as in a worker: it remembers which traces it has read.
    `executors` is swapped between the batched and the naive stand-ins."""
    return RunMonitor(
        db, services, worker_id="bench", batch_size=runs,
        executor_for=lambda _services, _session, run: executors[run.executor_group],
        run_store=lambda _services, _session, run: services.object_store.scoped(
            f"tenants/{run.tenant_id}/runs/{run.id}/"),
        move=move, trace_every=timedelta(minutes=10),
    )  # fmt: skip


def one_cycle(db, monitor, executors, use: dict[str, Executor], label: str, count) -> dict:
    """One cycle over every run with `use` as the executors; `count()` reads the number of
    DescribeJobs calls answered so far."""
    executors.clear()
    executors.update(use)
    make_due(db)
    before = count()
    stats = monitor.cycle()
    calls = count() - before
    errors = stats.group_errors + stats.run_errors
    return {"label": label, "claimed": stats.claimed, "groups": stats.groups, "calls": calls,
            "seconds": stats.seconds, "errors": errors}  # fmt: skip


def run(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mantle-bench-monitor-"))
    dropped = None
    if args.database == "postgresql":
        name = f"mantle_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        dropped = name
    else:
        url = f"sqlite:///{tmp / 'mantle.db'}"
    try:
        migrate.upgrade(url)
        db = Database(url)
        store = open_object_store((tmp / "objects").as_uri())
        services = SimpleNamespace(object_store=store, catalog=Catalog(store, CatalogSettings()))
        current: dict[str, Executor] = {}
        monitor = make_monitor(db, services, current, args.runs)
        cycles = [
            ("cold (batched, first look)", False),
            ("warm (batched)", False),
            ("baseline: one DescribeJobs per run", True),
            ("warm (batched), again", False),
        ]
        groups = [f"account-{g}" for g in range(args.groups)]
        if args.batch == "emulator":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test double
            from tests.batch_emulator import running_emulator

            with running_emulator() as emulator:
                seed_runs(db, args, lambda running: emulator.seed_jobs(
                    1, "RUNNING" if running else "RUNNABLE")[0])  # fmt: skip
                executors = {naive: emulator_executors(emulator, groups, naive)
                             for naive in (False, True)}  # fmt: skip
                results = [
                    one_cycle(
                        db,
                        monitor,
                        current,
                        executors[naive],
                        label,
                        lambda: emulator.calls["describejobs"],
                    )  # fmt: skip
                    for label, naive in cycles
                ]
        else:
            states = seed_runs(db, args)
            latency = args.latency_ms / 1000
            standins = {
                naive: {g: (NaiveStandIn if naive else BatchStandIn)(g, latency, states)
                        for g in groups}
                for naive in (False, True)
            }  # fmt: skip

            def count() -> int:
                return sum(e.calls for made in standins.values() for e in made.values())

            results = [one_cycle(db, monitor, current, standins[naive], label, count)
                       for label, naive in cycles]  # fmt: skip
        bound = math.ceil(args.runs / DESCRIBE_LIMIT) + args.groups
        print()
        batch = (
            "Batch emulator"
            if args.batch == "emulator"
            else (f"in-process Batch, {args.latency_ms} ms per DescribeJobs")
        )
        print(f"{args.runs} active runs, {args.tenants} tenants, {args.groups} credential "
              f"groups, {batch}, {args.database}")  # fmt: skip
        print(f"bound: DescribeJobs calls per cycle <= ceil(n/100) + groups = {bound}")
        print(f"{'cycle':40} {'runs':>6} {'groups':>6} {'calls':>7} {'<= bound':>8} {'wall s':>8}")
        for r in results:
            ok = "yes" if r["calls"] <= bound else "NO"
            print(f"{r['label']:40} {r['claimed']:>6} {r['groups']:>6} {r['calls']:>7} "
                  f"{ok:>8} {r['seconds']:>8.2f}")  # fmt: skip
            if r["errors"]:
                print(f"  ({r['errors']} errors; see the log)")
        db.dispose()
    finally:
        if dropped:
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--batch", choices=["emulator", "stand-in"], default="emulator")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="for --batch stand-in")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
