"""Launching a run, in three steps so that no half-written run can hide:

1. check everything and create the run row (QUEUED), in one transaction: params are validated
   against the pipeline's schema (422 naming the param), inputs resolved within the tenant,
   the samplesheet built and checked, all before anything is written;
2. write the run directory (run.json, params.json, samplesheet.csv, nextflow.config); if that
   fails, the run becomes FAILED with the reason, it never stays QUEUED;
3. submit the head job at once, in the request (launch -> SubmitJob is the latency users
   feel). A retryable failure (throttling, 5xx) leaves the run QUEUED and queues a
   `runs.submit` job that tries again with backoff; a permanent one fails the run with the
   executor's message.

A launch with an idempotency key that was seen before returns the run it made, when the same
user sent the same request; anything else under the same key is a 409.

The run's events secret (for Nextflow's weblog) goes into run.json only; the row keeps its
SHA-256, and no response or log line ever carries it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mantle import rundir
from mantle.accounts.policy import TenantAccess
from mantle.catalog.datasets import Datasets
from mantle.catalog.datasets import short_id as dataset_short_id
from mantle.cloud.aws import environments as env_lookup
from mantle.db.engine import Database
from mantle.db.models import SqlDataset, SqlEnvironment, SqlPipelineVersion, SqlRun
from mantle.db.repositories import datasets as dataset_repo
from mantle.db.repositories import environments as env_repo
from mantle.db.repositories import runs as repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError
from mantle.executors.base import Executor, HeadJob
from mantle.jobs import queue
from mantle.jobs.retry import as_mantle_error
from mantle.runs import events, placement, transitions
from mantle.runs import inputs as run_inputs
from mantle.runs.names import generated_name
from mantle.runs.pipeline_port import PipelinePort
from mantle.runs.states import RunStatus
from mantle.schemas.runs import LaunchPreview, LaunchRequest, PreviewInput, PreviewSamplesheet

log = logging.getLogger(__name__)

COUNTER = "run"
SUBMIT_JOB = "runs.submit"
LOCAL_NAMES = frozenset({"local", ""})
# Where a preview's samplesheet and outputs would go: the run directory is only made at launch.
PREVIEW_RUN_DIR = "{run_dir}/"


@dataclass
class Lineage:
    """How a new run relates to an earlier one (relaunch, resume)."""

    relaunch_of: uuid.UUID | None = None
    resume_of: uuid.UUID | None = None
    work_dir: str | None = None
    session_id: str | None = None
    dataset_ids: list[uuid.UUID] | None = None  # relaunch: the same inputs, not a new query


@dataclass
class Prepared:
    """A run checked and recorded, with what is still to be written and started."""

    run_id: uuid.UUID
    files: dict[str, bytes]
    store: Any = None  # ObjectStore of the run directory
    executor: Executor | None = None
    job: HeadJob | None = None
    replayed: bool = False  # an earlier launch with the same idempotency key: nothing to do


def fingerprint(request: LaunchRequest, user_id: uuid.UUID, lineage: Lineage) -> str:
    """What makes two launch requests the same request (for idempotency keys)."""
    body = request.model_dump(mode="json", exclude={"idempotency_key"})
    origin = [str(lineage.relaunch_of or ""), str(lineage.resume_of or "")]
    text = json.dumps([str(user_id), body, origin], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def events_secret() -> tuple[str, str]:
    """A new run's events secret and the hash the row keeps."""
    secret = secrets.token_urlsafe(32)
    return secret, events.secret_digest(secret)


class Launch:
    def __init__(self, services: placement.RunServices, datasets: Datasets) -> None:
        self.services = services
        self.datasets = datasets

    # -- 1. check and record ----------------------------------------------------------------

    def prepare(
        self,
        session: Session,
        access: TenantAccess,
        request: LaunchRequest,
        pipelines: PipelinePort,
        lineage: Lineage | None = None,
    ) -> Prepared:
        lineage = lineage or Lineage()
        request_print = fingerprint(request, access.principal.user_id, lineage)
        if request.idempotency_key:
            key = request.idempotency_key
            existing = repo.get_by_idempotency_key(session, access.tenant_id, key)
            if existing is not None:
                return self._replay(existing, access, request_print)
        version = pipelines.version(session, access, request.pipeline, request.version)
        env = self._environment(session, access, request.environment)
        rows = self._datasets(session, access, request, lineage)
        run_id = uuid.uuid4()
        place = placement.place(
            self.services, session, access.tenant_id, run_id, env, work_dir=lineage.work_dir
        )
        inputs = [run_inputs.input_dataset(r) for r in rows]
        pipelines.check_inputs(version, inputs)
        params, files = self._params_and_files(
            pipelines,
            version,
            request,
            inputs,
            run_dir=place.run_dir,
            samplesheet_uri=place.store.uri(rundir.SAMPLESHEET_CSV),
        )
        files[rundir.NEXTFLOW_CONFIG] = place.nextflow_config.encode()
        executor = self.services.executor_factories.make(self.services, session, env)
        secret, secret_hash = events_secret()
        run = self._insert(
            session,
            access,
            request,
            version,
            place,
            params,
            rows,
            lineage,
            secret_hash,
            request_print,
        )
        run.executor_group = executor.group_key
        spec = self._spec(run, version, place, params, inputs, secret, lineage)
        files[rundir.RUN_JSON] = rundir.dumps(spec)
        job = HeadJob(
            run_id=run.id, tenant_id=run.tenant_id, run_dir_url=place.run_dir, name=run.name
        )
        return Prepared(run.id, files, place.store, executor, job)

    def _replay(self, run: SqlRun, access: TenantAccess, request_print: str) -> Prepared:
        same_user = run.created_by_id == access.principal.user_id
        if not same_user or run.inputs.get("fingerprint") != request_print:
            raise ConflictError(
                "this idempotency key was used for another launch request; "
                "use a new key for a different run"
            )
        return Prepared(run.id, {}, replayed=True)

    def _environment(
        self, session: Session, access: TenantAccess, ref: str | None
    ) -> SqlEnvironment | None:
        if ref is not None and ref.strip().lower() in LOCAL_NAMES:
            return None
        if ref is None:
            rows = env_repo.list_for_tenant(session, access.tenant_id)
            if not rows:
                return None
            return env_lookup.find_row(session, access.tenant_id, None)
        try:
            key: str | uuid.UUID = uuid.UUID(ref)
        except ValueError:
            key = ref
        return env_lookup.find_row(session, access.tenant_id, key)

    def _datasets(
        self, session: Session, access: TenantAccess, request: LaunchRequest, lineage: Lineage
    ) -> list[SqlDataset]:
        if lineage.dataset_ids is not None:
            found = {
                r.id: r
                for r in dataset_repo.find(session, access.tenant_id, ids=lineage.dataset_ids)
            }
            missing = [i for i in lineage.dataset_ids if i not in found]
            if missing:
                raise NotFoundError(f"input dataset {missing[0]} of the run no longer exists")
            return [found[i] for i in lineage.dataset_ids]
        return run_inputs.resolve(session, access, self.datasets, request.inputs)

    def _params_and_files(
        self,
        pipelines: PipelinePort,
        version: SqlPipelineVersion,
        request: LaunchRequest,
        inputs: list[rundir.InputDataset],
        *,
        run_dir: str,
        samplesheet_uri: str,
    ) -> tuple[dict[str, Any], dict[str, bytes]]:
        params, sheet = self._platform_params(
            pipelines, version, request, inputs, run_dir, samplesheet_uri
        )
        if sheet is not None:
            pipelines.check_samplesheet(version.input_schema or {}, sheet)
        files: dict[str, bytes] = {} if sheet is None else {rundir.SAMPLESHEET_CSV: sheet}
        params = pipelines.validate_params(version.params_schema or {}, params)
        files[rundir.PARAMS_JSON] = rundir.params_json(params)
        return params, files

    @staticmethod
    def _platform_params(
        pipelines: PipelinePort,
        version: SqlPipelineVersion,
        request: LaunchRequest,
        inputs: list[rundir.InputDataset],
        run_dir: str,
        samplesheet_uri: str,
    ) -> tuple[dict[str, Any], bytes | None]:
        """The request's params with what the platform sets (the samplesheet param, outdir),
        and the samplesheet built from the inputs (None when the pipeline takes none)."""
        params = dict(request.params)
        sheet = None
        sheet_param = pipelines.samplesheet_param(version)
        if sheet_param and inputs:
            columns = dict(request.inputs.columns) or pipelines.default_columns(
                version.input_schema, inputs
            )
            sheet = pipelines.build_samplesheet(columns, inputs)
            params[sheet_param] = samplesheet_uri
        if version.pipeline.engine == "nextflow":
            # Outputs are ingested from the run directory: the platform says where they go.
            params["outdir"] = run_dir + rundir.OUTPUTS_DIR
        return params, sheet

    # -- a dry run --------------------------------------------------------------------------

    def preview(
        self,
        session: Session,
        access: TenantAccess,
        request: LaunchRequest,
        pipelines: PipelinePort,
    ) -> LaunchPreview:
        """What launching `request` would do, with nothing written: the pipeline version,
        where it would run, the inputs, the samplesheet and the params with defaults applied.
        An unknown pipeline, environment or dataset, or inputs the pipeline does not take,
        raise as a launch would; problems with the params or the samplesheet are listed in
        `problems` (the form shows them beside the fields) rather than raised."""
        version = pipelines.version(session, access, request.pipeline, request.version)
        env = self._environment(session, access, request.environment)
        rows = run_inputs.resolve(session, access, self.datasets, request.inputs)
        inputs = [run_inputs.input_dataset(r) for r in rows]
        pipelines.check_inputs(version, inputs)
        params, sheet = self._platform_params(
            pipelines, version, request, inputs, PREVIEW_RUN_DIR,
            PREVIEW_RUN_DIR + rundir.SAMPLESHEET_CSV,
        )  # fmt: skip
        problems: list[dict[str, Any]] = []
        if sheet is not None:
            try:
                pipelines.check_samplesheet(version.input_schema or {}, sheet)
            except InvalidInputError as e:
                problems.append(
                    {"param": "samplesheet", "rule": "samplesheet", "message": e.message}
                )
        try:
            params = pipelines.validate_params(version.params_schema or {}, params)
        except InvalidInputError as e:
            problems += _param_problems(e)
        return LaunchPreview(
            pipeline=version.pipeline.name,
            version=version.version,
            engine=version.pipeline.engine,
            environment=env.name if env is not None else placement.LOCAL,
            executor=placement.AWSBATCH if env is not None else placement.LOCAL,
            inputs=[_preview_input(i) for i in inputs],
            samplesheet=_preview_sheet(pipelines.samplesheet_param(version), sheet),
            params=params,
            problems=problems,
        )

    def _insert(
        self,
        session: Session,
        access: TenantAccess,
        request: LaunchRequest,
        version: SqlPipelineVersion,
        place: placement.Placement,
        params: dict[str, Any],
        rows: list[SqlDataset],
        lineage: Lineage,
        secret_hash: str,
        request_print: str,
    ) -> SqlRun:
        now = datetime.now(UTC)
        number = dataset_repo.allocate_numbers(session, access.tenant_id, COUNTER)
        run = SqlRun(
            id=place.run_id,
            tenant_id=access.tenant_id,
            number=number,
            name=request.name or generated_name(),
            pipeline_id=version.pipeline_id,
            pipeline_version_id=version.id,
            commit=version.commit,
            environment_id=place.environment_id,
            executor=place.executor,
            status=RunStatus.queued.value,
            params=params,
            inputs={
                "datasets": [str(r.id) for r in rows],
                "short_ids": [dataset_short_id(r.number) for r in rows],
                "query": request.inputs.query,
                "columns": dict(request.inputs.columns),
                "fingerprint": request_print,
            },
            labels=list(request.labels),
            idempotency_key=request.idempotency_key,
            run_dir=place.run_dir,
            work_dir=place.work_dir,
            # Nextflow makes its own session on a first run; the monitor records it (from
            # outputs.json or the weblog's `started`), and a resume passes it on.
            session_id=lineage.session_id or "",
            relaunch_of=lineage.relaunch_of,
            resume_of=lineage.resume_of,
            events_secret_hash=secret_hash,
            created_by_id=access.principal.user_id,
            created_by=access.principal.email,
            created_at=now,
            updated_at=now,
        )
        session.add(run)
        session.flush()
        why = f"launched by {access.principal.email}"
        if lineage.resume_of:
            why = f"resumed by {access.principal.email}"
        elif lineage.relaunch_of:
            why = f"relaunched by {access.principal.email}"
        transitions.record(session, run, None, RunStatus.queued, why, now)
        return run

    def _spec(
        self,
        run: SqlRun,
        version: SqlPipelineVersion,
        place: placement.Placement,
        params: dict[str, Any],
        inputs: list[rundir.InputDataset],
        secret: str,
        lineage: Lineage,
    ) -> rundir.RunSpec:
        pipeline = version.pipeline
        base = self.services.settings.public_url.rstrip("/")
        return rundir.RunSpec(
            run_id=str(run.id),
            tenant_id=str(run.tenant_id),
            name=run.name,
            executor=place.executor,  # type: ignore[arg-type]
            pipeline=rundir.PipelineRef(
                name=pipeline.name,
                engine=pipeline.engine,  # type: ignore[arg-type]
                repository=pipeline.repository,
                revision=version.revision,
                commit=version.commit,
                main_script=version.main_script,
                script=version.script,
            ),
            params=params,
            inputs=inputs,
            run_dir=place.run_dir,
            work_dir=place.work_dir,
            outdir=place.run_dir + rundir.OUTPUTS_DIR,
            resume=lineage.resume_of is not None,
            session_id=run.session_id,
            weblog_url=f"{base}/api/v1/runs/{run.id}/weblog?token={secret}",
            created_at=run.created_at,
        )

    # -- 2. write, 3. submit ----------------------------------------------------------------

    def start(self, db: Database, prepared: Prepared) -> None:
        """Write the run directory and submit; whatever fails is recorded on the run."""
        if prepared.replayed:
            return
        try:
            for name, data in prepared.files.items():
                prepared.store.put(name, data)
        except Exception as e:  # noqa: BLE001 - any failure must end the run, not strand it
            error = as_mantle_error(e, "run directory")
            log.warning("run %s: could not write its run directory: %s", prepared.run_id, error)
            fail(db, prepared.run_id, f"could not write the run directory: {error.message}")
            return
        assert prepared.executor is not None and prepared.job is not None  # noqa: S101
        submit(db, prepared.run_id, prepared.executor, prepared.job, attempt=0)


def _param_problems(error: InvalidInputError) -> list[dict[str, Any]]:
    details = error.details if isinstance(error.details, list) else []
    found = [
        {"param": str(d.get("param", "")), "rule": str(d.get("rule", "")),
         "message": str(d.get("message", ""))}
        for d in details
        if isinstance(d, dict) and "message" in d
    ]  # fmt: skip
    return found or [{"param": "", "rule": "", "message": error.message}]


def _preview_input(dataset: rundir.InputDataset) -> PreviewInput:
    return PreviewInput(
        id=dataset.id,
        short_id=dataset.short_id,
        name=dataset.name,
        data_type=dataset.data_type,
        files=[f.name for f in dataset.files],
    )


def _preview_sheet(param: str | None, sheet: bytes | None) -> PreviewSamplesheet | None:
    if param is None or sheet is None:
        return None
    text = sheet.decode("utf-8", errors="replace")
    table = list(csv.reader(io.StringIO(text)))
    header, rows = (table[0], table[1:]) if table else ([], [])
    return PreviewSamplesheet(param=param, columns=header, rows=rows, csv=text)


# --- submitting (in the request, then from the runs.submit job) ---------------------------


def submit(
    db: Database,
    run_id: uuid.UUID,
    executor: Executor,
    job: HeadJob,
    *,
    attempt: int,
    final: bool = False,
) -> bool:
    """Submit the head job and record the result. Attempt 0 is the launch request: a
    retryable failure there queues a `runs.submit` job and returns False (the run stays
    QUEUED). From that job (attempt >= 1) a retryable failure is raised for the worker to retry
    with backoff, until the `final` attempt, which fails the run."""
    try:
        external_id = executor.submit(job)
    except Exception as e:  # noqa: BLE001 - sorted just below
        error = as_mantle_error(e, SUBMIT_JOB)
        if error.retryable and not final:
            log.info("run %s: submit failed, will retry: %s", run_id, error.message)
            if attempt:
                raise error from e
            with db.session() as session:
                queue.enqueue(session, job.tenant_id, SUBMIT_JOB, {"run_id": str(run_id)})
            return False
        fail(db, run_id, f"could not start the run: {error.message}")
        return True
    with db.session() as session:
        run = repo.lock(session, run_id)
        if run is not None:
            run.external_id = external_id
            run.executor_group = executor.group_key
            if run.status == RunStatus.queued:
                transitions.move(session, run, RunStatus.submitted, f"submitted as {external_id}")
                return True
    # Cancelled (or gone) while the job was being submitted: stop what was just started.
    executor.cancel(external_id, reason="the run was cancelled before it started")
    return True


def fail(db: Database, run_id: uuid.UUID, reason: str) -> None:
    with db.session() as session:
        run = repo.lock(session, run_id)
        if run is not None and run.status == RunStatus.queued:
            transitions.move(session, run, RunStatus.failed, reason)
