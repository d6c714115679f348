"""The platform's services wired together once, from settings: used by the API app and by
`mantle worker` processes, so both run the same code with the same configuration. Job
handlers receive this object as `context.services`, typed by what they need (e.g.
`catalog.imports.ImportServices`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from mantle.accounts.secrets import Passwords
from mantle.catalog import imports
from mantle.catalog.read_buckets import ReadBuckets
from mantle.catalog.service import Catalog
from mantle.cloud.aws.crypto import SecretBox
from mantle.cloud.aws.environment_service import EnvironmentService
from mantle.db.engine import Database
from mantle.jobs.worker import JobKind, Worker
from mantle.pipelines.service import Pipelines
from mantle.runs.monitor import RunMonitor
from mantle.runs.placement import ExecutorFactories
from mantle.runs.service import Runs
from mantle.runs.submit_job import SUBMIT_JOB_KIND
from mantle.settings import Settings
from mantle.storage import ObjectStore

JOB_KINDS: tuple[JobKind, ...] = (imports.IMPORT_JOB, SUBMIT_JOB_KIND)


@dataclass
class Services:
    settings: Settings
    object_store: ObjectStore
    secret_box: SecretBox
    environments: EnvironmentService
    read_buckets: ReadBuckets
    catalog: Catalog
    passwords: Passwords
    pipelines: Pipelines
    # Which executor starts a run (local, awsbatch); tests register fakes here.
    executor_factories: ExecutorFactories = field(default_factory=ExecutorFactories)
    runs: Runs = field(init=False)

    def worker(self, db: Database) -> Worker[Services]:
        """The job worker, with the run monitor started and stopped alongside it."""
        worker = Worker(
            db,
            JOB_KINDS,
            self,
            threads=self.settings.worker.threads,
            lease=timedelta(seconds=self.settings.worker.lease_seconds),
            poll_seconds=self.settings.worker.poll_seconds,
        )
        worker.companions.append(self.run_monitor(db, worker_id=f"{worker.worker_id}/monitor"))
        return worker

    def run_monitor(self, db: Database, *, worker_id: str) -> RunMonitor:
        runs = self.settings.runs
        return RunMonitor(
            db,
            self,
            worker_id=worker_id,
            batch_size=runs.monitor_batch_size,
            lease=timedelta(seconds=runs.monitor_lease_seconds),
            interval=timedelta(seconds=runs.monitor_interval_seconds),
            max_interval=timedelta(seconds=runs.monitor_max_interval_seconds),
            trace_every=timedelta(seconds=runs.monitor_trace_seconds),
            failures_before_failing=runs.monitor_failures_before_failing,
        )


def build_services(settings: Settings, object_store: ObjectStore) -> Services:
    box = SecretBox(settings.secret_key.get_secret_value())
    environments = EnvironmentService(box, settings.aws)
    read_buckets = ReadBuckets(environments)
    catalog = Catalog(object_store, settings.catalog, tenant_read_roots=read_buckets.read_roots)
    passwords = Passwords(settings.auth.password_hash)
    pipelines = Pipelines(
        settings.data_dir / "git-cache",
        git_timeout=settings.pipelines.git_timeout_seconds,
        allow_local_repos=settings.allow_local_repositories,
        forbidden_roots=[settings.data_dir],
    )
    services = Services(
        settings, object_store, box, environments, read_buckets, catalog, passwords, pipelines
    )
    services.runs = Runs(services, catalog.datasets)
    return services
