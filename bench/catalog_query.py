"""Catalog query benchmark: 1,000,000 `fastq_pair` datasets on PostgreSQL, queried through the
real HTTP server, with the same SQL run directly through psycopg as a baseline.

    .venv/bin/python bench/catalog_query.py [--rows 1000000] [--requests 1000]

Steps: create a dedicated database, migrate it, make a tenant, user and API token; bulk-load
the datasets (and their version-1 snapshots) with COPY, indexes built after the load; start
`mantle server` (uvicorn) in a subprocess on it; time N first-page requests (type + sample
equality + sort, 50 rows) and the count; sample the server's RSS; run the same SQL directly;
drop the database (unless --keep). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mantle.accounts import service
from mantle.db import migrate
from mantle.db.engine import Database
from mantle.db.models import SqlDataset
from mantle.schemas.accounts import TenantCreate, TokenCreate, UserCreate

ADMIN_URL = os.environ.get(
    "MANTLE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SAMPLES = 200_000  # 5 datasets per sample at 1M rows; --rows scales it
READ_ROOT = "s3://bench-reads/runs/"
TRGM_INDEX = "ix_datasets_name_trgm"
MANTLE = str(Path(sys.executable).with_name("mantle"))
COLUMNS = (
    "id, tenant_id, number, name, data_type_id, data_type_version, properties, files, tags, "
    "origin, archived, version, created_at, created_by, updated_at, updated_by"
)
VERSION_COLUMNS = (
    "dataset_id, version, change, name, data_type_version, properties, files, tags, archived, "
    "created_at, created_by"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- database -------------------------------------------------------------------------------


def create_database() -> tuple[str, str]:
    name = f"mantle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_tenant(url: str) -> dict:
    from mantle.catalog.types import DataTypes
    from mantle.db.repositories import datatypes

    db = Database(url)
    with db.session() as s:
        user = service.create_user(s, UserCreate(email="bench@example.com", password="x" * 12))
        tenant = service.create_tenant(s, user.id, TenantCreate(slug="bench"))
        token = service.create_token(s, tenant.id, user.id, TokenCreate(name="bench"))
        DataTypes().ensure_builtins(s, tenant.id)
        pair = datatypes.get_by_name(s, tenant.id, "fastq_pair")
        ids = {"tenant_id": tenant.id, "type_id": pair.id, "token": token.token}
    db.dispose()
    return ids


def seed(url: str, ids: dict, rows: int) -> float:
    """COPY `rows` datasets and their snapshots; indexes are dropped first and rebuilt after
    (one sorted build beats a million incremental inserts into a GIN index)."""
    started = time.perf_counter()
    engine = create_engine(url)
    indexes = list(SqlDataset.__table__.indexes)
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
        conn.execute(text(f"DROP INDEX IF EXISTS {TRGM_INDEX}"))  # migration 0006
    base = datetime(2024, 1, 1, tzinfo=UTC)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY datasets ({COLUMNS}) FROM STDIN") as copy:
            for number in range(1, rows + 1):
                copy.write_row(_row(ids, number, base))
        log(f"  datasets copied in {time.perf_counter() - started:.0f} s")
        cur.execute(
            f"INSERT INTO dataset_versions ({VERSION_COLUMNS}) SELECT id, 1, 'created', name, "
            "data_type_version, properties, files, tags, archived, created_at, created_by "
            "FROM datasets"
        )
        cur.execute(
            "INSERT INTO catalog_counters (tenant_id, name, value) VALUES (%s, 'dataset', %s)",
            (ids["tenant_id"], rows),
        )
        conn.commit()
    log(f"  snapshots written at {time.perf_counter() - started:.0f} s; building indexes")
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for index in indexes:
            index.create(conn)
        conn.execute(
            text(f"CREATE INDEX {TRGM_INDEX} ON datasets USING gin (lower(name) gin_trgm_ops)")
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE datasets"))
        conn.execute(text("VACUUM ANALYZE dataset_versions"))
    engine.dispose()
    return time.perf_counter() - started


def _sample(number: int) -> str:
    return f"SAMPLE-{number % SAMPLES:06d}"


def _row(ids: dict, number: int, base: datetime) -> tuple:
    sample = _sample(number)
    r1, r2 = (
        f"{READ_ROOT}{number}/{sample}_R1.fastq.gz",
        f"{READ_ROOT}{number}/{sample}_R2.fastq.gz",
    )
    files = [
        {
            "uri": u,
            "name": u.rsplit("/", 1)[1],
            "size": 1_500_000_000,
            "etag": None,
            "checksum": None,
            "storage": "referenced",
        }
        for u in (r1, r2)
    ]
    at = base + timedelta(seconds=number // 2)  # pairs of rows share a timestamp: ties
    return (
        uuid.uuid4(),
        ids["tenant_id"],
        number,
        f"{sample} lane {number % 4 + 1}",
        ids["type_id"],
        1,
        json.dumps({"sample": sample, "read1": r1, "read2": r2}),
        json.dumps(files),
        json.dumps([f"batch-{number % 50}"]),
        "import",
        False,
        1,
        at,
        "bench@example.com",
        at,
        "bench@example.com",
    )


# --- server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "MANTLE_DATABASE__URL": url,
        "MANTLE_DATA_DIR": str(data_dir),
        "MANTLE_SERVER__PORT": str(port),
        "MANTLE_CATALOG__READ_BUCKETS": json.dumps([READ_ROOT]),
    }
    log_file = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [MANTLE, "server"], env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError((data_dir / "server.log").read_text())


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return (
        f"p50 {pick(0.50):6.2f} ms  p95 {pick(0.95):6.2f} ms  p99 {pick(0.99):6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms  mean {statistics.fmean(ordered):6.2f} ms"
    )


def http_run(base: str, token: str, pid: int, requests: int, rng: random.Random, url: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    path = "/api/v1/tenants/bench/datasets"
    latencies: list[float] = []
    rss = {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(30):  # warm-up: connections, caches
            client.get(
                path,
                params={"type": "fastq_pair", "where": f"sample={_sample(rng.randrange(SAMPLES))}"},
            )
        rss["start"] = rss_mib(pid)
        for i in range(requests):
            params = {
                "type": "fastq_pair",
                "where": f"sample={_sample(rng.randrange(SAMPLES))}",
                "sort": "-created_at",
                "limit": 50,
            }
            started = time.perf_counter()
            response = client.get(path, params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["items"]) == 5, response.text
            if i == requests // 2:
                rss["middle"] = rss_mib(pid)
        rss["end"] = rss_mib(pid)
        counts = {}
        for label, params in (
            (
                "count, type + sample",
                {
                    "type": "fastq_pair",
                    "where": "sample=SAMPLE-000042",
                    "count": "true",
                    "limit": 1,
                },
            ),
            ("count, type only (all rows)", {"type": "fastq_pair", "count": "true", "limit": 1}),
        ):
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                body = client.get(path, params=params).json()
                timings.append((time.perf_counter() - started) * 1000)
            counts[label] = (body["count"], sorted(timings)[2])
        pages = page_walk(client, path)
        more = other_queries(client, path, rng, url)
    return {"latencies": latencies, "rss": rss, "counts": counts, "pages": pages, "more": more}


def other_queries(client: httpx.Client, path: str, rng: random.Random, url: str) -> dict:
    """Name search (`q`, served by the trigram index; then again without it, as the
    baseline) and sorting by a property value, on a filtered selection and on the whole
    type."""

    def timed(params: dict, expect: int | None) -> float:
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.text
        if expect is not None:
            assert len(response.json()["items"]) == expect, (params, response.text[:200])
        return elapsed

    def samples(n: int) -> list[str]:
        return [_sample(rng.randrange(SAMPLES)) for _ in range(n)]

    def search(n: int) -> list[float]:
        return [timed({"type": "fastq_pair", "q": f"{s[5:]} lane", "limit": 50}, 5)
                for s in samples(n)]  # fmt: skip

    indexed = search(100)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {TRGM_INDEX}"))
    engine.dispose()
    return {
        "name contains (q), 5 matches, trigram index": indexed,
        "name contains (q), 5 matches, index dropped (baseline)": search(5),
        "type + sample in [3], sort properties.sample": [
            timed(
                {
                    "type": "fastq_pair",
                    "where": f"sample=[{','.join(samples(3))}]",
                    "sort": "-properties.sample",
                    "limit": 50,
                },
                None,
            )  # fmt: skip
            for _ in range(100)
        ],
        "whole type, sort properties.sample (first page)": [
            timed({"type": "fastq_pair", "sort": "properties.sample", "limit": 50}, 50)
            for _ in range(5)
        ],
    }


def page_walk(client: httpx.Client, path: str, pages: int = 200) -> float:
    """Median time of cursor pages deep into the unfiltered type listing (keyset, no OFFSET)."""
    cursor, timings = None, []
    for _ in range(pages):
        params = {"type": "fastq_pair", "limit": 50, **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        cursor = client.get(path, params=params).json()["next_cursor"]
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


# --- the same SQL, straight through psycopg ------------------------------------------------

DIRECT_SQL = """
SELECT datasets.*, data_types.name
FROM datasets JOIN data_types ON data_types.id = datasets.data_type_id
WHERE datasets.tenant_id = %(tenant)s AND datasets.data_type_id = %(type)s
  AND datasets.archived IS false AND datasets.properties @> %(doc)s::jsonb
ORDER BY datasets.created_at DESC, datasets.number DESC
LIMIT 51
"""


def direct_run(url: str, ids: dict, requests: int, rng: random.Random) -> tuple[list[float], str]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    latencies = []
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:

        def params():
            doc = json.dumps({"sample": _sample(rng.randrange(SAMPLES))})
            return {"tenant": ids["tenant_id"], "type": ids["type_id"], "doc": doc}

        for _ in range(30):
            cur.execute(DIRECT_SQL, params()).fetchall()
        for _ in range(requests):
            started = time.perf_counter()
            rows = cur.execute(DIRECT_SQL, params()).fetchall()
            latencies.append((time.perf_counter() - started) * 1000)
            assert len(rows) == 5
        plan = cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + DIRECT_SQL, params()).fetchall()
    return latencies, "\n".join(r[0] for r in plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    rng = random.Random(42)
    global SAMPLES
    SAMPLES = max(1, args.rows // 5)
    name, url = create_database()
    log(f"database {name}")
    server = None
    try:
        migrate.upgrade(url)
        ids = make_tenant(url)
        log(f"seeding {args.rows:,} fastq_pair datasets")
        seconds = seed(url, ids, args.rows)
        log(f"seeded in {seconds:.0f} s")
        data_dir = Path(f"/tmp/{name}")
        data_dir.mkdir(exist_ok=True)
        server, base = start_server(url, data_dir)
        log(f"server pid {server.pid} at {base}; {args.requests} requests")
        result = http_run(base, ids["token"], server.pid, args.requests, rng, url)
        direct, plan = direct_run(url, ids, args.requests, rng)
        report(args, seconds, result, direct, plan)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        if not args.keep:
            drop_database(name)
            log(f"dropped {name}")


def report(args, seconds: float, result: dict, direct: list[float], plan: str) -> None:
    print()
    print(
        f"rows: {args.rows:,} fastq_pair datasets; seeding (COPY, indexes, VACUUM) {seconds:.0f} s"
    )
    print("first page of 50: type + sample equality + sort -created_at")
    print(f"  HTTP API ({args.requests} requests): {percentiles(result['latencies'])}")
    print(f"  direct SQL via psycopg:       {percentiles(direct)}")
    for label, (count, ms) in result["counts"].items():
        print(f"  {label}: {count:,} in {ms:.1f} ms (HTTP, median of 5)")
    print(f"  keyset page walk, unfiltered type listing: median {result['pages']:.1f} ms per page")
    for label, timings in result["more"].items():
        print(f"  {label} ({len(timings)} requests): {percentiles(timings)}")
    rss = result["rss"]
    print(
        f"server RSS: start {rss['start']:.1f} MiB, middle {rss['middle']:.1f} MiB, "
        f"end {rss['end']:.1f} MiB"
    )
    print("plan of the direct query:")
    print("  " + plan.replace("\n", "\n  "))


if __name__ == "__main__":
    main()
