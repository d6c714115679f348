"""Bulk import benchmark: 100,000 objects (50,000 fastq pairs) in a bucket on moto's server,
imported as datasets by the real import job, against a bare ListObjectsV2 walk of the same
bucket in the same run. Goal: the import takes at most 1.3x the bare walk.

    .venv/bin/python bench/import_walk.py [--objects 100000] [--backends postgresql,sqlite]

Steps: start moto's server as a separate process (`python -m moto.server`, so its CPU time
does not share this process's GIL with the import; `--moto thread` runs it in-process as
tests/aws.py does); seed the bucket with parallel put_object calls; time a bare boto3
ListObjectsV2 paginator walk of `runs/` (1000 keys a page), twice, keeping the better, and
again right before each import (moto's listing speed drifts over a long run); then,
for each database, make a fresh database (PostgreSQL: `mantle_bench_<random>`, dropped at the
end; SQLite: a file under /tmp), a tenant, user, token and an AWS environment whose read
bucket is the seeded one (through the API, `POST /api/v1/tenants/{t}/environments`), and time
the import from `POST /imports` to the end of the job, run in-process by
`app.state.services.worker(db).run_once()`. Each import runs `--repeat` times (default 2,
each on a fresh database: best of two, like the walk), then once more on the last database
(the re-run: nothing new, no duplicates). With `--breakdown`, one more import (fresh database)
runs with timing probes wrapped around the import's steps (see `Probes`), to show where the
time goes; the probes add a little overhead, so the headline figures come from unprobed runs.
With `--profile DIR`, that probed run also writes a cProfile dump. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from motoserver import BODY, REGION, Moto, pair_keys, use_fake_aws_env
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from mantle.accounts import service
from mantle.app import create_app
from mantle.db import migrate
from mantle.db.engine import Database
from mantle.schemas.accounts import TenantCreate, TokenCreate, UserCreate
from mantle.settings import Settings

ADMIN_URL = os.environ.get(
    "MANTLE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BUCKET = "bench-reads"
PREFIX = "runs/"
PAIR = {
    "read1": r"(?P<sample>[^/]+)_R1_001\.fastq\.gz$",
    "read2": r"(?P<sample>[^/]+)_R2_001\.fastq\.gz$",
}
SPEC = {"bucket": BUCKET, "prefix": PREFIX, "data_type": "fastq_pair", "patterns": PAIR,
        "key": "sample", "tags": ["bench"]}  # fmt: skip
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnop"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- moto ------------------------------------------------------------------------------------


def seed_over_http(moto: Moto, objects: int, threads: int = 32) -> float:
    """`objects` tiny objects as fastq pairs, put_object in parallel over HTTP."""
    started = time.perf_counter()
    s3 = moto.client(max_pool_connections=threads * 2)
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str) -> None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=BODY)

    keys = list(pair_keys(PREFIX, objects // 2))

    with ThreadPoolExecutor(threads) as pool:
        for done, _ in enumerate(pool.map(put, keys), 1):
            if done % 20_000 == 0:
                log(f"  {done:,} objects put")
    return time.perf_counter() - started


def bare_walk(moto: Moto) -> tuple[float, int, int]:
    """The baseline: a boto3 ListObjectsV2 paginator over `runs/`, 1000 keys a page."""
    s3 = moto.client()
    started = time.perf_counter()
    keys = pages = 0
    paginator = s3.get_paginator("list_objects_v2")
    pages_config = {"PageSize": 1000}
    for page in paginator.paginate(Bucket=BUCKET, Prefix=PREFIX, PaginationConfig=pages_config):
        keys += len(page.get("Contents", []))
        pages += 1
    return time.perf_counter() - started, keys, pages


# --- databases ---------------------------------------------------------------------------------


class BenchDatabase:
    """A fresh, migrated database: PostgreSQL (created and dropped here) or a SQLite file."""

    def __init__(self, backend: str, work: Path) -> None:
        self.backend = backend
        self.name = f"mantle_bench_{uuid.uuid4().hex[:8]}"
        if backend == "postgresql":
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = (
                make_url(ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
            )
        else:
            self.path = work / f"{self.name}.db"
            self.url = f"sqlite:///{self.path}"
        migrate.upgrade(self.url)

    def drop(self) -> None:
        if self.backend == "postgresql":
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


# --- the import ----------------------------------------------------------------------------------


class Mantle:
    """The app in-process (TestClient), a tenant `bench` with an owner and token, and an AWS
    environment whose read bucket is the seeded bucket."""

    def __init__(self, database: BenchDatabase, moto: Moto, work: Path) -> None:
        self.database = database
        data_dir = work / database.name
        data_dir.mkdir()
        self.settings = Settings(
            data_dir=data_dir, secret_key=SECRET_KEY, public_url="http://testserver",
            database={"url": database.url}, storage={"root": (data_dir / "objects").as_uri()},
            aws={"endpoint_url": moto.endpoint_url}, worker={"embedded": False},
        )  # fmt: skip
        self.db = Database(database.url)
        self.app = create_app(self.settings, db=self.db)
        self.api = TestClient(self.app)
        self.api.__enter__()
        with self.db.session() as s:
            user = service.create_user(s, UserCreate(email="bench@example.com", password="x" * 12))
            tenant = service.create_tenant(s, user.id, TenantCreate(slug="bench"))
            token = service.create_token(s, tenant.id, user.id, TokenCreate(name="bench"))
        self.headers = {"Authorization": f"Bearer {token.token}"}
        body = {
            "name": "prod", "region": REGION, "is_default": True, "account_id": "123456789012",
            "credentials": {"kind": "keys", "access_key_id": "AKIAMANTLEBENCH00001",
                            "secret_access_key": "bench-secret-access-key-0123456789"},
            "write_bucket": "mantle-write", "read_buckets": [{"bucket": BUCKET, "prefix": PREFIX}],
            "head_queue": "head",
        }  # fmt: skip
        response = self.api.post("/api/v1/tenants/bench/environments", json=body,
                                  headers=self.headers)  # fmt: skip
        assert response.status_code == 201, response.text
        self.worker = self.app.state.services.worker(self.db)

    def run_import(self) -> tuple[float, dict]:
        """Seconds from POST /imports to the end of the job, and the finished job."""
        started = time.perf_counter()
        response = self.api.post("/api/v1/tenants/bench/imports", json=SPEC, headers=self.headers)
        assert response.status_code == 202, response.text
        assert self.worker.run_once()
        seconds = time.perf_counter() - started
        job = self.api.get(f"/api/v1/tenants/bench/imports/{response.json()['id']}",
                           headers=self.headers).json()  # fmt: skip
        assert job["status"] == "succeeded", job
        return seconds, job

    def dataset_count(self) -> int:
        params = {"count": "true", "limit": 1}
        response = self.api.get("/api/v1/tenants/bench/datasets", params=params,
                                headers=self.headers)  # fmt: skip
        return response.json()["count"]

    def close(self) -> None:
        self.api.__exit__(None, None, None)
        self.db.dispose()


# --- probes: where the import's time goes ------------------------------------------------------


class Probes:
    """Inclusive wall time and call counts of the import's steps, by wrapping them in this
    process only (nothing in src/ changes), plus the time spent inside the database driver
    (SQLAlchemy cursor events) and waiting for the next listing page."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._undo: list = []

    def wrap(self, owner, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)
        seconds, calls = self.seconds, self.calls

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - started
                calls[label] += 1

        setattr(owner, attribute, timed)
        self._undo.append((owner, attribute, original))

    def wrap_walk(self, module) -> None:
        """Time the import spends blocked on `next(walk)`: the listing not yet fetched."""
        original = module.walk
        seconds, calls = self.seconds, self.calls

        def walk(*args, **kwargs):
            pages = original(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    item = next(pages)
                except StopIteration:
                    return
                finally:
                    seconds["waiting for the listing (next page)"] += time.perf_counter() - started
                calls["waiting for the listing (next page)"] += 1
                yield item

        module.walk = walk
        self._undo.append((module, "walk", original))

    def watch_sql(self, engine) -> None:
        seconds, calls = self.seconds, self.calls

        def before(conn, _cursor, statement, _params, _context, _many):
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        def after(conn, _cursor, statement, _params, _context, _many):
            elapsed = time.perf_counter() - conn.info["bench_started"].pop()
            verb = statement.lstrip().split(None, 1)[0].upper()
            table = _table_of(statement)
            label = f"  SQL {verb} {table}".rstrip()
            seconds[label] += elapsed
            calls[label] += 1
            seconds["SQL: all statements (driver time)"] += elapsed
            calls["SQL: all statements (driver time)"] += 1

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        self._undo.append(("sql", engine, (before, after)))
        self.wrap(engine.dialect, "do_commit", "SQL: COMMIT")

    def undo(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            if owner == "sql":
                before, after = original
                event.remove(attribute, "before_cursor_execute", before)
                event.remove(attribute, "after_cursor_execute", after)
                continue
            setattr(owner, attribute, original)
        self._undo.clear()

    def report(self, total: float) -> None:
        print(f"    {'step (inclusive wall time; nested steps indented)':58} {'s':>7} "
              f"{'%':>5} {'calls':>8}")  # fmt: skip
        for label in ORDER:
            if label in self.seconds:
                self._line(label, total)
        for label in sorted(k for k in self.seconds if k.startswith("  SQL ")):
            self._line(label, total)
        for label in self.seconds:
            if label not in ORDER and not label.startswith("  SQL "):
                self._line(label, total)

    def _line(self, label: str, total: float) -> None:
        s = self.seconds[label]
        print(f"    {label:58} {s:7.2f} {100 * s / total:5.1f} {self.calls[label]:8,}")


def _table_of(statement: str) -> str:
    words = statement.replace("(", " ").replace("\n", " ").split()
    upper = [w.upper() for w in words]
    for marker in ("INTO", "UPDATE", "FROM"):
        if marker in upper:
            i = upper.index(marker)
            if i + 1 < len(words):
                return words[i + 1].strip('"')
    return ""


ORDER = [
    "waiting for the listing (next page)",
    "ImportRun._scan (walk + stage + create)",
    "  plan.match (regex per object)",
    "  ImportRun._stage (INSERT import_objects)",
    "  ImportRun._create_complete",
    "    ImportRun._staged (SELECT import_objects)",
    "    ImportRun._create",
    "      ImportPlan.build",
    "      _existing (SELECT import_sources)",
    "      ImportRun._dataset (DatasetCreate models)",
    "      Datasets.create_many",
    "        Datasets._new_state (validation)",
    "        allocate_numbers",
    "        repo.add (flush datasets)",
    "        repo.add_versions (flush dataset_versions)",
    "        dataset_public (DatasetPublic models)",
    "      add_edges (flush activity_datasets)",
    "  JobContext.report (heartbeat + checkpoint)",
    "ImportRun._finish",
    "SQL: all statements (driver time)",
    "SQL: COMMIT",
]


def install_probes(probes: Probes, db: Database) -> None:
    from mantle.catalog import import_plan, imports
    from mantle.catalog.datasets import Datasets
    from mantle.db.repositories import datasets as dataset_repo
    from mantle.db.repositories import lineage as lineage_repo
    from mantle.jobs.context import JobContext

    probes.wrap_walk(imports)
    probes.wrap(imports.ImportRun, "_scan", "ImportRun._scan (walk + stage + create)")
    probes.wrap(import_plan.ImportPlan, "match", "  plan.match (regex per object)")
    probes.wrap(imports.ImportRun, "_page_eager", "  ImportRun._page_eager (one page)")
    probes.wrap(imports.ImportRun, "_staged_groups", "    ImportRun._staged_groups (SELECT)")
    probes.wrap(imports.ImportRun, "_stage", "    ImportRun._stage (INSERT import_objects)")
    probes.wrap(imports.ImportRun, "_create_complete", "    ImportRun._create_complete")
    probes.wrap(imports.ImportRun, "_staged", "    ImportRun._staged (SELECT import_objects)")
    probes.wrap(imports.ImportRun, "_create", "    ImportRun._create")
    probes.wrap(import_plan.ImportPlan, "build", "      ImportPlan.build")
    probes.wrap(imports, "_existing", "      _existing (SELECT import_sources)")
    probes.wrap(imports.ImportRun, "_dataset", "      ImportRun._dataset (DatasetCreate models)")
    probes.wrap(Datasets, "create_many", "      Datasets.create_many")
    probes.wrap(Datasets, "_new_state", "        Datasets._new_state (validation)")
    probes.wrap(dataset_repo, "allocate_numbers", "        allocate_numbers")
    probes.wrap(dataset_repo, "insert_created", "        repo.insert_created (INSERTs)")
    probes.wrap(lineage_repo, "add_edges", "      add_edges (INSERT activity_datasets)")
    probes.wrap(JobContext, "report", "  JobContext.report (heartbeat + checkpoint)")
    probes.wrap(imports.ImportRun, "_finish", "ImportRun._finish")
    probes.watch_sql(db.engine)


# --- the run -------------------------------------------------------------------------------------


def one_import(backend: str, moto: Moto, work: Path, args, rerun: bool = False,
               probed: bool = False) -> dict:  # fmt: skip
    """An import into a fresh database (dropped after unless --keep), optionally re-run, with
    optional timing probes."""
    database = BenchDatabase(backend, work)
    mantle = Mantle(database, moto, work)
    variant = "probed" if probed else "import"
    probes = Probes() if probed else None
    profiler = cProfile.Profile() if probed and args.profile else None
    result: dict = {"variant": variant}
    try:
        if args.adjacent_walks and not probed:
            # moto's listing speed drifts over a long run (±20 %): a walk right before each
            # import gives that import its own baseline.
            result["walk"] = bare_walk(moto)[0]
            log(f"  adjacent bare walk: {result['walk']:.1f} s")
        if probes:
            install_probes(probes, mantle.db)
        if profiler:
            profiler.enable()
        result["seconds"], job = mantle.run_import()
        if profiler:
            profiler.disable()
            args.profile.mkdir(parents=True, exist_ok=True)
            target = args.profile / f"import_{backend}_{variant}.prof"
            profiler.dump_stats(target)
            log(f"  cProfile written to {target}")
        if probes:
            probes.undo()
            result["probes"] = probes
        result["progress"] = job["progress"]
        result["count"] = mantle.dataset_count()
        log(f"  {backend} {variant}: {result['seconds']:.1f} s; "
            f"{job['progress']['datasets_created']:,} datasets created")  # fmt: skip
        if rerun:
            result["rerun"], job = mantle.run_import()
            result["rerun_progress"] = job["progress"]
            result["count_after_rerun"] = mantle.dataset_count()
            log(f"  {backend} {variant} re-run: {result['rerun']:.1f} s; created "
                f"{job['progress']['datasets_created']}, existing "
                f"{job['progress']['datasets_existing']:,}")  # fmt: skip
    finally:
        if probes:
            probes.undo()
        mantle.close()
        if not args.keep:
            database.drop()
    return result


def import_backend(backend: str, moto: Moto, work: Path, args) -> dict:
    result: dict = {"backend": backend, "runs": []}
    for attempt in range(1, args.repeat + 1):
        log(f"{backend}: import {attempt}/{args.repeat}")
        run = one_import(backend, moto, work, args, rerun=attempt == args.repeat)
        result["runs"].append(run["seconds"])
        result.setdefault("baseline_runs", []).append(run)
        result["last"] = run
    if args.breakdown:
        log(f"{backend}: import with timing probes (breakdown)")
        result["breakdowns"] = [one_import(backend, moto, work, args, probed=True)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--repeat", type=int, default=2, help="imports per backend (best kept)")
    parser.add_argument("--moto", choices=("process", "thread"), default="process")
    parser.add_argument(
        "--seed",
        choices=("direct", "http"),
        default="direct",
        help="put objects straight into moto's backend, or put_object over HTTP",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="one more import with timing probes",
    )
    parser.add_argument("--profile", type=Path, help="with --breakdown: cProfile dumps here")
    parser.add_argument(
        "--no-adjacent-walks",
        dest="adjacent_walks",
        action="store_false",
        help="skip the bare walk timed right before each import",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    args = parser.parse_args()
    if args.profile:
        args.breakdown = True
    use_fake_aws_env()
    work = Path(tempfile.mkdtemp(prefix="mantle_bench_import_"))
    direct = (BUCKET, PREFIX, args.objects // 2) if args.seed == "direct" else None
    log(f"starting moto ({args.moto}); seeding {args.objects:,} objects ({args.seed})")
    moto = Moto(args.moto, work, seed=direct)
    try:
        seeded = moto.startup_seconds if direct else seed_over_http(moto, args.objects)
        log(f"moto at {moto.endpoint_url}; seeded in {seeded:.0f} s")
        walks = []
        for i in (1, 2):
            seconds, keys, pages = bare_walk(moto)
            walks.append(seconds)
            log(f"bare walk {i}: {seconds:.2f} s, {keys:,} keys in {pages} pages")
            assert keys == args.objects, keys
        results = [import_backend(b, moto, work, args) for b in args.backends.split(",")]
        seconds, _keys, _pages = bare_walk(moto)
        walks.append(seconds)
        log(f"bare walk after the imports: {seconds:.2f} s")
        moto_rss = moto.rss_mib()
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(args, seeded, walks, results, moto_rss)


def report(args, seeded: float, walks: list[float], results: list[dict], moto_rss) -> None:
    walk = min(walks[:2])
    print()
    print(f"objects: {args.objects:,} ({args.objects // 2:,} fastq pairs) under s3://{BUCKET}/"
          f"{PREFIX} on moto ({args.moto}); seeded ({args.seed}) in {seeded:.0f} s; "
          f"moto RSS {moto_rss:.0f} MiB")  # fmt: skip
    print(f"bare ListObjectsV2 walk (1000 keys/page): {walks[0]:.2f} s, {walks[1]:.2f} s "
          f"(better: {walk:.2f} s); after the imports: {walks[2]:.2f} s")  # fmt: skip
    print()
    print("Ratios: import / the bare walk timed right before it (adjacent); in brackets, "
          "import / the better of the two opening walks.")  # fmt: skip
    print()
    print("| database | run | import (s) | adjacent walk (s) | ratio | datasets created | "
          "re-run (s) | re-run created / existing | datasets after re-run |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for v in r["baseline_runs"]:
            adjacent = v.get("walk")
            ratio = _ratio(v["seconds"], adjacent) if adjacent else "-"
            created = f"{v['progress']['datasets_created']:,} (count {v['count']:,})"
            rerun = _rerun_cells(v) if "rerun" in v else f"{created} | - | - | -"
            print(f"| {r['backend']} | {v['variant']} | {v['seconds']:.1f} | "
                  f"{adjacent or float('nan'):.1f} | {ratio} [{v['seconds'] / walk:.2f}x] | "
                  f"{rerun} |")  # fmt: skip
    print()
    for r in results:
        best = min(r["baseline_runs"], key=lambda v: v["seconds"] / v.get("walk", walk))
        print(f"{r['backend']}: baseline runs {', '.join(f'{s:.1f}' for s in r['runs'])} s; "
              f"best ratio {best['seconds'] / best.get('walk', walk):.2f}x")  # fmt: skip
    for r in results:
        for b in r.get("breakdowns", []):
            print()
            print(f"{r['backend']}, {b['variant']}: where the import's {b['seconds']:.1f} s go "
                  f"(probed run; walk {walk:.2f} s)")  # fmt: skip
            b["probes"].report(b["seconds"])
    print()
    print(f"median walk {statistics.median(walks):.2f} s over {len(walks)} walks")


def _ratio(seconds: float, walk: float) -> str:
    verdict = "goal met" if seconds <= 1.3 * walk else "misses 1.3x"
    return f"{seconds / walk:.2f}x ({verdict})"


def _rerun_cells(run: dict) -> str:
    rp = run["rerun_progress"]
    return (f"{run['progress']['datasets_created']:,} (count {run['count']:,}) | "
            f"{run['rerun']:.1f} | {rp['datasets_created']} / {rp['datasets_existing']:,} | "
            f"{run['count_after_rerun']:,}")  # fmt: skip


if __name__ == "__main__":
    main()
