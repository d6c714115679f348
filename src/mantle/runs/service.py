"""`Runs`: the use cases of runs, for the API, the CLI (through the API) and the worker.

Launch, relaunch and resume go through `launch.Launch`; cancel stops the head job and every
task job the run is known to have, then records CANCELLED. Reading (a run, a page of runs,
its transitions, tasks, logs and outputs) is always within the caller's tenant: another
tenant's run is not found.

Who may do what: viewers read; members launch, and cancel their own runs; admins cancel any.
Cancelling a run that already ended is refused (409), except a cancelled one, which is
answered as it is (a retried cancel is harmless).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle import rundir
from mantle.accounts.policy import Permission, TenantAccess
from mantle.catalog.datasets import Datasets, parse_numbered_ref
from mantle.catalog.datasets import short_id as dataset_short_id
from mantle.db.engine import Database
from mantle.db.models import SqlEnvironment, SqlPipelineVersion, SqlRun
from mantle.db.repositories import runs as repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mantle.jobs.retry import as_mantle_error
from mantle.runs import placement, transitions
from mantle.runs.launch import Launch, Lineage
from mantle.runs.pipeline_port import PipelinePort, PlatformPipelines
from mantle.runs.states import ACTIVE, FINISHED, RunStatus
from mantle.schemas.runs import (
    LaunchPreview,
    LaunchRequest,
    RelaunchRequest,
    RunInputs,
    RunLogLine,
    RunLogPage,
    RunOutputPublic,
    RunPage,
    RunPublic,
    RunTaskPage,
    RunTaskPublic,
    RunTransitionPublic,
)

RUN_REF = re.compile(r"(?i)run-(\d{1,10})")
LAUNCHER_LOG_PAGE = 256 * 1024
RESUMABLE = frozenset({RunStatus.failed, RunStatus.cancelled})


def short_id(number: int) -> str:
    return f"run-{number}"


def parse_ref(ref: str | uuid.UUID) -> uuid.UUID | int:
    """`run-42` -> 42, a UUID -> UUID; anything else is no run of anyone's (404)."""
    return parse_numbered_ref(ref, RUN_REF, "run")


def _cursor_number(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 10:
        raise InvalidInputError("cursor: pass back the next_cursor of a previous page")
    return int(cursor)


class Runs:
    def __init__(self, services: placement.RunServices, datasets: Datasets) -> None:
        self.services = services
        self.datasets = datasets
        self.pipelines: PipelinePort = PlatformPipelines(services)
        self._launch = Launch(services, datasets)

    # -- launching --------------------------------------------------------------------------

    def launch(
        self,
        db: Database,
        access: TenantAccess,
        request: LaunchRequest,
        lineage: Lineage | None = None,
    ) -> RunPublic:
        try:
            with db.session() as session:
                prepared = self._launch.prepare(session, access, request, self.pipelines, lineage)
        except ConflictError:
            if not request.idempotency_key:
                raise
            # Two requests with one key raced; the loser answers with the winner's run.
            with db.session() as session:
                prepared = self._launch.prepare(session, access, request, self.pipelines, lineage)
        self._launch.start(db, prepared)
        with db.session() as session:
            return self.public(session, self._load(session, access, prepared.run_id))

    def preview(
        self, session: Session, access: TenantAccess, request: LaunchRequest
    ) -> LaunchPreview:
        """A dry run of `launch` (see `Launch.preview`): nothing is written."""
        return self._launch.preview(session, access, request, self.pipelines)

    def relaunch(
        self, db: Database, access: TenantAccess, ref: str, body: RelaunchRequest
    ) -> RunPublic:
        """A new run of the same pipeline version, params (with `body.params` over them),
        inputs and environment."""
        with db.session() as session:
            run = self._load(session, access, ref)
            request, lineage = self._again(session, run, body)
            lineage.relaunch_of = run.id
        return self.launch(db, access, request, lineage)

    def resume(
        self, db: Database, access: TenantAccess, ref: str, body: RelaunchRequest
    ) -> RunPublic:
        """A new run that continues a failed or cancelled Nextflow run: the same work
        directory and session, with `-resume`, so finished tasks are not run again."""
        with db.session() as session:
            run = self._load(session, access, ref)
            version = self._version(session, run)
            if version.pipeline.engine != "nextflow":
                raise ConflictError(
                    f"{short_id(run.number)} is a {version.pipeline.engine} run; only Nextflow "
                    "runs can be resumed (relaunch it instead)"
                )
            if RunStatus(run.status) not in RESUMABLE:
                raise ConflictError(
                    f"{short_id(run.number)} is {run.status}; only a FAILED or CANCELLED run "
                    "can be resumed"
                )
            request, lineage = self._again(session, run, body)
            lineage.resume_of = run.id
            lineage.work_dir = run.work_dir
            lineage.session_id = run.session_id
        return self.launch(db, access, request, lineage)

    def _again(
        self, session: Session, run: SqlRun, body: RelaunchRequest
    ) -> tuple[LaunchRequest, Lineage]:
        version = self._version(session, run)
        if run.executor == placement.LOCAL:
            environment = "local"
        elif run.environment_id is not None:
            environment = str(run.environment_id)
        else:
            raise NotFoundError(f"the AWS environment of {short_id(run.number)} no longer exists")
        request = LaunchRequest(
            pipeline=version.pipeline.name,
            version=version.version,
            environment=environment,
            params={**run.params, **body.params},
            inputs=RunInputs(columns=run.inputs.get("columns") or {}),
            name=body.name or run.name,
            labels=run.labels,
            idempotency_key=body.idempotency_key,
        )
        ids = [uuid.UUID(i) for i in run.inputs.get("datasets") or []]
        return request, Lineage(dataset_ids=ids)

    # -- cancelling -------------------------------------------------------------------------

    def cancel(self, db: Database, access: TenantAccess, ref: str, reason: str = "") -> RunPublic:
        with db.session() as session:
            run = self._load(session, access, ref)
            self._check_owner(access, run, "cancel")
            status = RunStatus(run.status)
            if status == RunStatus.cancelled:
                return self.public(session, run)
            if status in FINISHED:
                raise ConflictError(f"{short_id(run.number)} has already ended ({run.status})")
            executor = None
            if run.external_id:
                try:
                    executor = placement.executor_for(self.services, session, run)
                except NotFoundError:
                    # Its environment was deleted: nothing of ours can reach the jobs any more;
                    # the run is still marked cancelled.
                    executor = None
            task_ids = repo.task_native_ids(session, run.id)
            external_id, run_id = run.external_id, run.id
        why = f"cancelled by {access.principal.email}" + (f": {reason}" if reason else "")
        if executor is not None and external_id:
            try:
                executor.cancel(external_id, reason=why, task_ids=task_ids)
            except Exception as e:  # noqa: BLE001 - translated for the caller
                raise as_mantle_error(e, "runs.cancel") from e
        with db.session() as session:
            run = repo.lock(session, run_id)
            if run is not None and RunStatus(run.status) in ACTIVE:
                transitions.move(session, run, RunStatus.cancelled, why)
            return self.public(session, self._load(session, access, run_id))

    def _check_owner(self, access: TenantAccess, run: SqlRun, action: str) -> None:
        if access.allows(Permission.admin):
            return
        if run.created_by_id != access.principal.user_id:
            raise PermissionDeniedError(
                f"only who launched {short_id(run.number)} ({run.created_by}) or a tenant "
                f"admin can {action} it"
            )

    # -- reading ----------------------------------------------------------------------------

    def load(self, session: Session, access: TenantAccess, ref: str | uuid.UUID) -> SqlRun:
        return self._load(session, access, ref)

    def _load(self, session: Session, access: TenantAccess, ref: str | uuid.UUID) -> SqlRun:
        key = parse_ref(ref)
        if isinstance(key, int):
            run = repo.get_by_number(session, access.tenant_id, key)
        else:
            run = repo.get(session, access.tenant_id, key)
        if run is None:
            raise NotFoundError(f"run '{str(ref)[:60]}' not found")
        return run

    def get(self, session: Session, access: TenantAccess, ref: str) -> RunPublic:
        return self.public(session, self._load(session, access, ref))

    def list(
        self,
        session: Session,
        access: TenantAccess,
        where: repo.RunFilter,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        rows = repo.page(session, access.tenant_id, where, limit + 1, _cursor_number(cursor))
        next_cursor = str(rows[limit - 1].number) if len(rows) > limit else None
        return RunPage(items=self.publics(session, rows[:limit]), next_cursor=next_cursor)

    def transitions(self, session: Session, access: TenantAccess, ref: str):
        run = self._load(session, access, ref)
        return [
            RunTransitionPublic.model_validate(t, from_attributes=True)
            for t in repo.transitions(session, run.id)
        ]

    def tasks(
        self,
        session: Session,
        access: TenantAccess,
        ref: str,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunTaskPage:
        run = self._load(session, access, ref)
        rows = repo.tasks(session, run.id, limit + 1, _cursor_number(cursor))
        next_cursor = str(rows[limit - 1].task_id) if len(rows) > limit else None
        items = [RunTaskPublic.model_validate(r, from_attributes=True) for r in rows[:limit]]
        return RunTaskPage(items=items, next_cursor=next_cursor)

    def outputs(self, session: Session, access: TenantAccess, ref: str) -> list[RunOutputPublic]:
        run = self._load(session, access, ref)
        return [
            RunOutputPublic(
                path=out.path,
                dataset_id=out.dataset_id,
                short_id=dataset_short_id(ds.number) if ds else None,
                name=ds.name if ds else None,
            )
            for out, ds in repo.outputs(session, run.id)
        ]

    def logs(
        self,
        db: Database,
        access: TenantAccess,
        ref: str,
        *,
        source: str = "executor",
        cursor: str | None = None,
        limit: int = 1000,
    ) -> RunLogPage:
        with db.session() as session:
            run = self._load(session, access, ref)
            if source == "launcher":
                store = placement.run_store(self.services, session, run)
                finished = RunStatus(run.status) in FINISHED
            elif run.external_id:
                executor = placement.executor_for(self.services, session, run)
            external_id = run.external_id
        if source == "launcher":
            return _launcher_log(store, cursor, finished)
        if not external_id:
            return RunLogPage(source="executor", lines=[], cursor=cursor)
        try:
            page = executor.logs(external_id, cursor, limit=limit)
        except Exception as e:  # noqa: BLE001 - translated for the caller
            raise as_mantle_error(e, "runs.logs") from e
        lines = [RunLogLine(timestamp=ln.timestamp, message=ln.message) for ln in page.lines]
        return RunLogPage(source="executor", lines=lines, cursor=page.cursor)

    # -- the public view --------------------------------------------------------------------

    def public(self, session: Session, run: SqlRun) -> RunPublic:
        return self.publics(session, [run])[0]

    def publics(self, session: Session, runs: Sequence[SqlRun]) -> list[RunPublic]:
        version_ids = {r.pipeline_version_id for r in runs}
        env_ids = {r.environment_id for r in runs if r.environment_id}
        versions = {
            v.id: v
            for v in session.scalars(
                select(SqlPipelineVersion).where(SqlPipelineVersion.id.in_(version_ids))
            )
        } if version_ids else {}  # fmt: skip
        envs = {
            e.id: e.name
            for e in session.scalars(select(SqlEnvironment).where(SqlEnvironment.id.in_(env_ids)))
        } if env_ids else {}  # fmt: skip
        return [_public(r, versions[r.pipeline_version_id], envs) for r in runs]

    def _version(self, session: Session, run: SqlRun) -> SqlPipelineVersion:
        return session.get_one(SqlPipelineVersion, run.pipeline_version_id)


def _public(run: SqlRun, version: SqlPipelineVersion, envs: dict) -> RunPublic:
    if run.executor == placement.LOCAL:
        environment = "local"
    else:
        environment = envs.get(run.environment_id, "(deleted)")
    return RunPublic(
        id=run.id,
        short_id=short_id(run.number),
        number=run.number,
        name=run.name,
        pipeline=version.pipeline.name,
        pipeline_version=version.version,
        engine=version.pipeline.engine,
        commit=run.commit,
        environment=environment,
        executor=run.executor,
        status=run.status,
        status_reason=run.status_reason,
        params=run.params,
        inputs=list(run.inputs.get("short_ids") or run.inputs.get("datasets") or []),
        labels=run.labels,
        run_dir=run.run_dir,
        work_dir=run.work_dir,
        external_id=run.external_id,
        exit_code=run.exit_code,
        relaunch_of=run.relaunch_of,
        resume_of=run.resume_of,
        created_by=run.created_by,
        created_at=run.created_at,
        submitted_at=run.submitted_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        updated_at=run.updated_at,
    )


def _launcher_log(store, cursor: str | None, finished: bool) -> RunLogPage:
    """launcher.log from byte offset `cursor`, whole lines only while the run goes on."""
    offset = _cursor_number(cursor) or 0
    try:
        size = store.head(rundir.LAUNCHER_LOG).size
    except NotFoundError:
        return RunLogPage(source="launcher", lines=[], cursor=cursor)
    if offset >= size:
        return RunLogPage(source="launcher", lines=[], cursor=cursor)
    end = min(size, offset + LAUNCHER_LOG_PAGE) - 1
    data = b"".join(store.get(rundir.LAUNCHER_LOG, byte_range=(offset, end)))
    if not (finished and end == size - 1) and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    elif not finished and b"\n" not in data:
        return RunLogPage(source="launcher", lines=[], cursor=cursor)
    text = data.decode("utf-8", errors="replace")
    lines = [RunLogLine(timestamp=None, message=line) for line in text.splitlines()]
    return RunLogPage(source="launcher", lines=lines, cursor=str(offset + len(data)))
