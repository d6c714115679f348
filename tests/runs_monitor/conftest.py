"""Monitor tests work on the database and a local object store: tenants with a pipeline whose
output rules make `bam` and `report` datasets, runs in any state, and an executor whose job
states the test sets; the run directory is the tenant's area of a local store, as for local
runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mantle.catalog.service import Catalog
from mantle.db.models import (
    SqlPipeline,
    SqlPipelineVersion,
    SqlRun,
    SqlTenant,
    SqlUser,
)
from mantle.errors import CloudError
from mantle.executors.base import Executor, HeadJob, JobState, JobStatus, LogPage
from mantle.pipelines.outputs import match_outputs
from mantle.rundir import OutputsManifest, RunSpec, dumps
from mantle.runs import transitions
from mantle.runs.monitor import RunMonitor
from mantle.runs.outputs import run_access
from mantle.runs.states import RunStatus
from mantle.schemas.catalog import DataTypeCreate, PropertyDef
from mantle.settings import CatalogSettings
from mantle.storage import open_object_store

OUTPUT_RULES = [
    {"glob": "star/*.bam", "data_type": "bam", "pattern": r"star/(?P<sample>[^/]+)\.bam$",
     "name": "{sample} alignments"},
    {"glob": "multiqc/multiqc_report.html", "data_type": "report"},
]  # fmt: skip


# --- stand-ins ----------------------------------------------------------------------------


class FakeExecutor(Executor):
    """Job states set by the test; counts poll calls as Batch would (100 ids per call)."""

    name = "fake"

    def __init__(self, group: str = "g1") -> None:
        self.group = group
        self.states: dict[str, JobState] = {}
        self.calls = 0
        self.error: Exception | None = None

    @property
    def group_key(self) -> str:
        return self.group

    def set(
        self, job_id: str, status: JobStatus, reason: str = "", exit_code=None, started_at=None
    ) -> None:
        self.states[job_id] = JobState(job_id, status, reason, exit_code, started_at)

    def submit(self, job: HeadJob) -> str:
        raise NotImplementedError

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        if self.error is not None:
            self.calls += 1
            raise self.error
        found = {}
        for start in range(0, len(job_ids), 100):
            self.calls += 1
            for job_id in job_ids[start : start + 100]:
                found[job_id] = self.states.get(job_id, JobState(job_id, JobStatus.pending))
        return found

    def cancel(self, job_id, *, reason, task_ids=()) -> None:
        pass

    def logs(self, job_id, cursor=None, *, limit=1000) -> LogPage:
        return LogPage([], cursor)


# --- the lab ------------------------------------------------------------------------------


@dataclass
class Lab:
    db: object
    store: object
    catalog: Catalog
    executors: dict[str, FakeExecutor] = field(default_factory=dict)
    tenants: dict[str, uuid.UUID] = field(default_factory=dict)
    versions: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)
    numbers: int = 0

    @property
    def services(self):
        return SimpleNamespace(catalog=self.catalog, object_store=self.store)

    def tenant(self, slug: str) -> uuid.UUID:
        if slug in self.tenants:
            return self.tenants[slug]
        with self.db.session() as s:
            tenant = SqlTenant(slug=slug, name=slug)
            user = SqlUser(email=f"sci@{slug}.example", password_hash="x")
            s.add_all([tenant, user])
            s.flush()
            pipeline = SqlPipeline(tenant_id=tenant.id, name="rnaseq", engine="nextflow",
                                   repository="file:///repo")  # fmt: skip
            s.add(pipeline)
            s.flush()
            version = SqlPipelineVersion(pipeline_id=pipeline.id, tenant_id=tenant.id, version=1,
                                         commit="c0ffee", output_rules=OUTPUT_RULES)  # fmt: skip
            s.add(version)
            s.flush()
            self.tenants[slug] = tenant.id
            self.versions[tenant.id] = (pipeline.id, version.id)
            self._types(s, tenant.id, user)
        return tenant.id

    def _types(self, s, tenant_id, user) -> None:
        run = SqlRun(tenant_id=tenant_id, created_by_id=user.id, created_by=user.email)
        access = run_access(s, run)
        sample = PropertyDef(name="sample", type="string")
        self.catalog.types.create(s, access, DataTypeCreate(name="bam", properties=[sample]))
        self.catalog.types.ensure_builtins(s, tenant_id)  # `report` is one of them

    def run_store(self, services, session, run: SqlRun):
        return self.store.scoped(f"tenants/{run.tenant_id}/runs/{run.id}/")

    def executor_for(self, services, session, run: SqlRun) -> FakeExecutor:
        group = run.executor_group or "local"
        return self.executors.setdefault(group, FakeExecutor(group))

    def run(self, slug: str = "lab", *, status=RunStatus.submitted, group="g1", **fields):
        return self.runs(1, slug, status=status, group=group, **fields)[0]

    def runs(self, count: int, slug: str = "lab", *, status=RunStatus.submitted, group="g1",
             **fields) -> list[SqlRun]:  # fmt: skip
        tenant_id = self.tenant(slug)
        pipeline_id, version_id = self.versions[tenant_id]
        made = []
        with self.db.session() as s:
            user = s.scalar(select(SqlUser).where(SqlUser.email == f"sci@{slug}.example"))
            for _ in range(count):
                self.numbers += 1
                row = SqlRun(
                    id=uuid.uuid4(), tenant_id=tenant_id, number=self.numbers,
                    name=f"run {self.numbers}", pipeline_id=pipeline_id,
                    pipeline_version_id=version_id, commit="c0ffee", executor="awsbatch",
                    status=status.value, executor_group=group,
                    external_id=f"job-{uuid.uuid4().hex[:12]}", created_by_id=user.id,
                    created_by=user.email, outputs_state="",
                    **{"submitted_at": datetime.now(UTC) - timedelta(seconds=5), **fields},
                )  # fmt: skip
                row.run_dir = self.run_store(None, s, row).root_uri
                made.append(row)
            s.add_all(made)
        return made

    def write(self, run: SqlRun, key: str, data: str | bytes) -> None:
        store = self.run_store(None, None, run)
        store.put(key, data.encode() if isinstance(data, str) else data)

    def finish_outputs(self, run: SqlRun, paths: list[str], inputs=()) -> OutputsManifest:
        """What the launcher leaves on success: the published files, run.json, outputs.json."""
        from mantle.rundir import OutputFile, PipelineRef

        files = []
        for path in paths:
            self.write(run, f"outputs/{path}", f"content of {path}")
            files.append(OutputFile(path=path, size=len(f"content of {path}"),
                                    checksum="sha256:" + "0" * 64))  # fmt: skip
        spec = RunSpec(
            run_id=str(run.id), tenant_id=str(run.tenant_id), name=run.name, executor="awsbatch",
            pipeline=PipelineRef(name="rnaseq", engine="nextflow"), inputs=list(inputs),
            run_dir=run.run_dir, work_dir="s3://w/work", outdir=run.run_dir + "outputs/",
        )  # fmt: skip
        self.write(run, "run.json", dumps(spec))
        if inputs:  # launch records the resolved inputs on the run too
            with self.db.session() as s:
                s.get(SqlRun, run.id).inputs = {"datasets": [d.id for d in inputs]}
        manifest = OutputsManifest(run_id=str(run.id), exit_code=0, files=files)
        self.write(run, "outputs.json", dumps(manifest))
        return manifest

    def monitor(self, worker_id: str = "w1", **options) -> RunMonitor:
        options.setdefault("interval", timedelta(seconds=5))
        return RunMonitor(
            self.db, self.services, worker_id=worker_id, executor_for=self.executor_for,
            run_store=self.run_store, move=transitions.move, match_outputs=match_outputs,
            **options,
        )  # fmt: skip

    def get(self, run: SqlRun) -> SqlRun:
        with self.db.session() as s:
            return s.get(SqlRun, run.id)

    def make_due(self, *runs: SqlRun) -> None:
        with self.db.session() as s:
            for run in runs:
                s.get(SqlRun, run.id).next_check_at = datetime.now(UTC) - timedelta(seconds=1)

    def executor(self, group="g1") -> FakeExecutor:
        return self.executors.setdefault(group, FakeExecutor(group))


@pytest.fixture
def lab(database, tmp_path) -> Lab:
    store = open_object_store((tmp_path / "objects").as_uri())
    return Lab(database, store, Catalog(store, CatalogSettings()))


def denied() -> CloudError:
    return CloudError("AWS denied batch:DescribeJobs: the credentials were revoked")
