"""Launch latency: from `POST /runs` arriving at the app to the executor's submit call, for
200 launches of a Nextflow pipeline over two datasets, in process on SQLite (the embedded
default). Goal: p50 <= 100 ms. The executor is a stand-in that records when `submit` was
called (so the figure is Mantle's own work: checks, the run row, the run directory on the
file store, the samplesheet), and the request's total time is printed beside it.

    .venv/bin/python bench/run_launch.py [--launches 200]

Params are checked by the real pipelines service (JSON Schema, an nf-core-like schema). The
baseline printed beside it, in the same run, is the API's simplest write: creating a dataset.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from mantle.accounts import service
from mantle.app import create_app
from mantle.db import migrate
from mantle.db.engine import Database
from mantle.db.models import SqlPipeline, SqlPipelineVersion
from mantle.executors.base import Executor, HeadJob, LogPage
from mantle.schemas.accounts import TenantCreate, TokenCreate, UserCreate
from mantle.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.runs.conftest import RNASEQ_SCHEMA  # noqa: E402


class TimingExecutor(Executor):
    name = "bench"
    group_key = "bench"  # type: ignore[assignment]

    def __init__(self) -> None:
        self.submitted: list[float] = []

    def submit(self, job: HeadJob) -> str:
        self.submitted.append(time.perf_counter())
        return f"job-{len(self.submitted)}"

    def poll(self, job_ids):
        return {}

    def cancel(self, job_id, *, reason, task_ids=()):
        return None

    def logs(self, job_id, cursor=None, *, limit=1000):
        return LogPage([], cursor)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'bench.db'}"
        settings = Settings(
            data_dir=data, database={"url": url}, storage={"root": (data / "objects").as_uri()},
            worker={"embedded": False}, catalog={"read_buckets": ["s3://bench-reads/"]},
            auth={"password_hash": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}},
        )  # fmt: skip
        migrate.upgrade(url)
        db = Database(url)
        app = create_app(settings, db=db)
        executor = TimingExecutor()
        services = app.state.services
        services.executor_factories.register("local", lambda *_: executor)
        with db.session() as s:
            user = service.create_user(
                s, services.passwords, UserCreate(email="b@example.com", password="x" * 12)
            )
            tenant = service.create_tenant(s, user.id, TenantCreate(slug="bench"))
            token = service.create_token(
                s, tenant.id, user.id, TokenCreate(name="bench", scope="write"), max_days=1
            ).token
            pipe = SqlPipeline(tenant_id=tenant.id, name="rnaseq", engine="nextflow")
            s.add(pipe)
            s.flush()
            s.add(SqlPipelineVersion(
                pipeline_id=pipe.id, tenant_id=tenant.id, version=1, commit="a" * 40,
                params_schema=RNASEQ_SCHEMA, samplesheet={"param": "input"},
            ))  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app) as api:
            base = "/api/v1/tenants/bench"
            ids = []
            for sample in ("S1", "S2"):
                body = {"name": sample, "data_type": "fastq_pair", "properties": {
                    "sample": sample, "read1": f"s3://bench-reads/{sample}_1.fq.gz",
                    "read2": f"s3://bench-reads/{sample}_2.fq.gz"}}  # fmt: skip
                ids.append(api.post(f"{base}/datasets", json=body, headers=headers).json()["id"])
            launch = {"pipeline": "rnaseq", "inputs": {"datasets": ids}}
            to_submit, total = [], []
            for n in range(args.launches + 10):
                body = {**launch, "idempotency_key": str(uuid.uuid4())}
                started = time.perf_counter()
                response = api.post(f"{base}/runs", json=body, headers=headers)
                ended = time.perf_counter()
                assert response.status_code == 201, response.text
                if n >= 10:  # warm-up
                    to_submit.append(executor.submitted[-1] - started)
                    total.append(ended - started)
            # Baseline in the same run: the simplest write of the API (one dataset, one row
            # and its first version), to set launch's own cost beside it.
            baseline = []
            for n in range(args.launches + 10):
                body = {"name": f"b{n}", "data_type": "fastq_pair", "properties": {
                    "sample": f"b{n}", "read1": f"s3://bench-reads/b{n}_1.fq.gz",
                    "read2": f"s3://bench-reads/b{n}_2.fq.gz"}}  # fmt: skip
                started = time.perf_counter()
                response = api.post(f"{base}/datasets", json=body, headers=headers)
                ended = time.perf_counter()
                assert response.status_code == 201, response.text
                if n >= 10:
                    baseline.append(ended - started)
        db.dispose()
    rows = (
        ("launch -> submit", to_submit),
        ("launch request", total),
        ("baseline: create dataset request", baseline),
    )
    for label, values in rows:
        ms = [v * 1000 for v in values]
        print(
            f"{label:33} p50 {statistics.median(ms):6.1f} ms  p99 {percentile(ms, 0.99):6.1f} ms"
            f"  ({len(ms)} requests)"
        )


if __name__ == "__main__":
    main()
