"""Runs test helpers: a fake executor (records submits and cancels) registered through
placement, a small stand-in for the pipelines package (version lookup, params check,
samplesheet), pipelines made directly in the database, and a tenant member calling the API."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mantle.db.models import SqlPipeline, SqlPipelineVersion
from mantle.errors import InvalidInputError, NotFoundError
from mantle.executors.base import Executor, HeadJob, JobState, JobStatus, LogLine, LogPage
from mantle.settings import Settings
from tests.conftest import make_settings
from tests.factories import Member

READ_BUCKET = "s3://lab-reads/runs/"

RNASEQ_SCHEMA = {
    "type": "object",
    "properties": {
        "input": {"type": "string"},
        "outdir": {"type": "string"},
        "genome": {"type": "string", "default": "GRCh38"},
        "min_reads": {"type": "integer", "default": 10},
    },
    "required": ["input", "outdir"],
}


@pytest.fixture
def settings(tmp_path, migrated_url) -> Settings:
    return make_settings(tmp_path, migrated_url, catalog={"read_buckets": [READ_BUCKET]})


# --- the fake executor -------------------------------------------------------------------


@dataclass
class FakeExecutor(Executor):
    name: str = "fake"
    submits: list[HeadJob] = field(default_factory=list)
    cancels: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    fail_with: Exception | None = None
    log_lines: list[str] = field(default_factory=list)
    on_submit: Callable[[HeadJob], None] | None = None

    @property
    def group_key(self) -> str:
        return "fake-group"

    def submit(self, job: HeadJob) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.submits.append(job)
        if self.on_submit is not None:
            self.on_submit(job)
        return f"job-{len(self.submits)}"

    def poll(self, job_ids: Sequence[str]) -> dict[str, JobState]:
        return {j: JobState(j, JobStatus.running) for j in job_ids}

    def cancel(self, job_id: str, *, reason: str, task_ids: Sequence[str] = ()) -> None:
        self.cancels.append((job_id, tuple(task_ids)))

    def logs(self, job_id: str, cursor: str | None = None, *, limit: int = 1000) -> LogPage:
        start = int(cursor or 0)
        lines = self.log_lines[start : start + limit]
        return LogPage([LogLine(None, m) for m in lines], str(start + len(lines)))


# --- the pipelines stand-in ------------------------------------------------------------------


class FakePipelines:
    """Just enough of `mantle.pipelines` for launching: latest version by name, required and
    integer params, defaults, a samplesheet of sample/fastq_1/fastq_2."""

    def version(self, session, access, ref, version=None):
        query = (
            select(SqlPipelineVersion)
            .join(SqlPipeline)
            .where(SqlPipeline.tenant_id == access.tenant_id, SqlPipeline.name == ref)
        )
        if version is not None:
            query = query.where(SqlPipelineVersion.version == version)
        row = session.scalars(query.order_by(SqlPipelineVersion.version.desc())).first()
        if row is None:
            raise NotFoundError(f"pipeline '{ref}' not found")
        return row

    def validate_params(self, params_schema, params):
        props = params_schema.get("properties", {})
        out = {k: v["default"] for k, v in props.items() if "default" in v} | dict(params)
        for name in params_schema.get("required", []):
            if name not in out:
                raise InvalidInputError(f"params.{name}: required", details=[{"loc": [name]}])
        for name, value in out.items():
            if props.get(name, {}).get("type") == "integer" and not isinstance(value, int):
                raise InvalidInputError(f"params.{name}: must be an integer")
        return out

    def samplesheet_param(self, version):
        return (version.samplesheet or {}).get("param")

    def default_columns(self, input_schema, datasets):
        return {"sample": "sample"}

    def build_samplesheet(self, columns, datasets):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["sample", "fastq_1", "fastq_2"])
        for ds in datasets:
            p = ds.properties
            writer.writerow([p.get(columns.get("sample", "sample")), p["read1"], p["read2"]])
        return buffer.getvalue().encode()

    def check_inputs(self, version, datasets):
        if version.script and version.script.get("inputs") and not datasets:
            raise InvalidInputError("inputs: 'reads' needs a dataset")

    def check_samplesheet(self, input_schema, csv_bytes):
        if not csv_bytes.strip():
            raise InvalidInputError("samplesheet is empty")


# --- a tenant through the API ----------------------------------------------------------------


@dataclass
class Lab:
    api: TestClient
    member: Member
    tenant_id: str

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.member.tenant}"

    def request(self, method: str, path: str, *, as_: Member | None = None, **kwargs):
        who = as_ or self.member
        return self.api.request(method, self.base + path, headers=who.headers, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def pair(self, sample: str, **extra) -> dict:
        body = {
            "name": f"{sample} reads",
            "data_type": "fastq_pair",
            "properties": {
                "sample": sample,
                "read1": f"{READ_BUCKET}{sample}_R1.fastq.gz",
                "read2": f"{READ_BUCKET}{sample}_R2.fastq.gz",
                **extra,
            },
        }
        return self.ok("POST", "/datasets", 201, json=body)

    def launch(self, status: int = 201, **body):
        body.setdefault("pipeline", "rnaseq")
        return self.ok("POST", "/runs", status, json=body)


def add_pipelines(db, tenant_id: str) -> None:
    tid = uuid.UUID(tenant_id)
    with db.session() as s:
        rnaseq = SqlPipeline(
            tenant_id=tid, name="rnaseq", engine="nextflow", repository="https://git.example/rnaseq"
        )
        stats = SqlPipeline(tenant_id=tid, name="fastq-stats", engine="script", builtin=True)
        s.add_all([rnaseq, stats])
        s.flush()
        s.add_all([
            SqlPipelineVersion(
                pipeline_id=rnaseq.id, tenant_id=tid, version=1, revision="3.14",
                commit="a" * 40, params_schema=RNASEQ_SCHEMA, input_schema={"type": "array"},
                samplesheet={"param": "input"},
            ),
            SqlPipelineVersion(
                pipeline_id=stats.id, tenant_id=tid, version=1,
                params_schema={"type": "object", "properties": {}},
                script={"command": "fastq-stats", "inputs": ["fastq_pair"]},
            ),
        ])  # fmt: skip


@pytest.fixture
def executor() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def services(app, executor):
    services = app.state.services
    services.executor_factories.register("local", lambda *_: executor)
    services.executor_factories.register("awsbatch", lambda *_: executor)
    services.runs.pipelines = FakePipelines()
    return services


def make_lab(factory, api, database, slug: str, email: str, role: str = "owner") -> Lab:
    member = factory.member(slug, email, role)
    tenant = api.get(f"/api/v1/tenants/{slug}", headers=member.headers).json()
    return Lab(api=api, member=member, tenant_id=tenant["id"])


@pytest.fixture
def lab(factory, api, database, services) -> Lab:
    lab = make_lab(factory, api, database, "acme", "alice@example.com")
    add_pipelines(database, lab.tenant_id)
    return lab
