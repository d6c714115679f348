"""A worker process killed (SIGKILL) half way through registering a run's outputs: nothing it
did survives, another worker takes the run over once the lease has expired, and the outputs
are registered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from mantle.db.models import SqlDataset, SqlRunOutput
from mantle.executors.base import JobStatus
from mantle.runs.states import RunStatus
from tests.runs_monitor.test_outputs_ingest import PUBLISHED, count_datasets, succeed

# The doomed worker: one monitor cycle that stops for good after its first dataset.
WORKER = """
import sys, time
from pathlib import Path
from mantle.catalog.service import Catalog
from mantle.db.engine import Database
from mantle.settings import CatalogSettings
from mantle.storage import open_object_store
from tests.runs_monitor.conftest import Lab
from mantle.executors.base import JobStatus

url, store_uri, job_id, marker = sys.argv[1:5]
store = open_object_store(store_uri)
lab = Lab(Database(url), store, Catalog(store, CatalogSettings()))
lab.executor().set(job_id, JobStatus.succeeded, "", 0)
create = lab.catalog.datasets.create

def create_then_hang(*args, **kwargs):
    made = create(*args, **kwargs)
    Path(marker).write_text("one dataset made, not committed")
    time.sleep(600)

lab.catalog.datasets.create = create_then_hang
lab.monitor("doomed").cycle()
"""


def test_a_killed_worker_leaves_nothing_and_the_next_registers_once(lab, tmp_path):
    run = lab.run(status=RunStatus.running)
    succeed(lab, run)
    marker = tmp_path / "marker"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, lab.db.url, lab.store.root_uri, run.external_id,
         str(marker)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker never reached the outputs"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    row = lab.get(run)
    assert row.monitor_owner == "doomed" and row.status == "RUNNING"
    assert count_datasets(lab) == 0
    # The lease is still the dead worker's: nobody takes the run before it expires.
    assert lab.monitor("next").claim() == []
    with lab.db.session() as s:  # as if the lease had run out
        s.get(type(row), run.id).monitor_lease_until = datetime.now(UTC) - timedelta(seconds=1)
    lab.executor().set(run.external_id, JobStatus.succeeded, "", 0)
    assert lab.monitor("next").cycle().moved == {"SUCCEEDED": 1}
    assert count_datasets(lab) == 3
    with lab.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SqlRunOutput)) == len(PUBLISHED)
        assert s.scalar(select(func.count()).select_from(SqlDataset).where(
            SqlDataset.origin == "pipeline_run")) == 3  # fmt: skip
    assert lab.get(run).outputs_state == "done"
