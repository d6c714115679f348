"""The platform's services wired together once, from settings: used by the API app and by
`mantle worker` processes, so both run the same code with the same configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mantle.catalog import imports
from mantle.catalog.read_buckets import ReadBuckets
from mantle.catalog.service import Catalog
from mantle.cloud.aws.crypto import SecretBox
from mantle.db.engine import Database
from mantle.jobs.worker import Handler, Worker
from mantle.settings import Settings
from mantle.storage import ObjectStore

JOB_HANDLERS: dict[str, Handler] = {imports.JOB_KIND: imports.run_import}


@dataclass
class Services:
    settings: Settings
    object_store: ObjectStore
    secret_box: SecretBox
    read_buckets: ReadBuckets
    catalog: Catalog

    def job_services(self) -> dict:
        return {"catalog": self.catalog, "read_buckets": self.read_buckets}

    def worker(self, db: Database) -> Worker:
        return Worker(
            db,
            JOB_HANDLERS,
            services=self.job_services(),
            lease=timedelta(seconds=self.settings.worker.lease_seconds),
            poll_seconds=self.settings.worker.poll_seconds,
        )


def build_services(settings: Settings, object_store: ObjectStore) -> Services:
    box = SecretBox(settings.secret_key.get_secret_value())
    read_buckets = ReadBuckets(box, settings.aws)
    catalog = Catalog(object_store, settings.catalog, tenant_read_roots=read_buckets.read_roots)
    return Services(settings, object_store, box, read_buckets, catalog)
