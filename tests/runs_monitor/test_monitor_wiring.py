"""The monitor runs wherever the job worker runs (the server's embedded worker and `mantle
worker`), starts and stops with it, and takes its settings from `MANTLE_RUNS__...`."""

from __future__ import annotations

import time
from datetime import timedelta

from mantle.executors.base import JobStatus
from mantle.runs.monitor import RunMonitor
from mantle.settings import Settings


def test_the_worker_carries_a_monitor_configured_from_settings(app, database):
    services = app.state.services
    worker = services.worker(database)
    (monitor,) = worker.companions
    assert isinstance(monitor, RunMonitor)
    assert monitor.worker_id == f"{worker.worker_id}/monitor"
    assert monitor.interval == timedelta(seconds=5) and monitor.batch_size == 5000
    assert worker.start() and monitor._thread.is_alive()
    assert worker.stop(timeout=10)
    assert not monitor._thread.is_alive()


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MANTLE_RUNS__MONITOR_INTERVAL_SECONDS", "2.5")
    monkeypatch.setenv("MANTLE_RUNS__MONITOR_LEASE_SECONDS", "120")
    runs = Settings().runs
    assert runs.monitor_interval_seconds == 2.5 and runs.monitor_lease_seconds == 120


def test_the_monitor_thread_follows_runs_until_stopped(lab):
    run = lab.run()
    lab.executor().set(run.external_id, JobStatus.running)
    monitor = lab.monitor(interval=timedelta(milliseconds=50))
    monitor.start()
    try:
        deadline = time.monotonic() + 10
        while lab.get(run).status != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert monitor.stop(timeout=10)
    assert lab.get(run).status == "RUNNING"
