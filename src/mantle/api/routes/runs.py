"""Runs of a tenant: launch, list (filters, cursor pages), show, the transitions timeline,
tasks, logs (the executor's, or the launcher's own log), outputs; cancel, relaunch, resume.

Viewers read; members launch, relaunch, resume, and cancel their own runs; admins cancel any.
A run of another tenant is 404 on every route. `{run}` is `run-42` or the run's UUID.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from mantle.api.deps import Db, LaunchAccess, ReadAccess, RunsService
from mantle.api.errors import TENANT_ERRORS, error_responses
from mantle.db.repositories.runs import RunFilter
from mantle.schemas.bounds import Instant
from mantle.schemas.runs import (
    CancelRequest,
    LaunchPreview,
    LaunchRequest,
    RelaunchRequest,
    RunLogPage,
    RunOutputPublic,
    RunPage,
    RunPublic,
    RunTaskPage,
    RunTransitionPublic,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant}/runs", tags=["runs"], responses=TENANT_ERRORS)
RunRef = Annotated[str, Path(description="run-42 or the run's UUID", max_length=64)]
Status = Literal["QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
UPSTREAM = error_responses(409) | {502: {"description": "The executor (AWS) failed."}}


@router.post("", response_model=RunPublic, status_code=201, responses=UPSTREAM)
def launch(body: LaunchRequest, access: LaunchAccess, db: Db, runs: RunsService):
    """Launch a run: params are checked against the pipeline's schema (422 names the param),
    inputs resolved within the tenant, the run directory written, and the head job submitted.
    The same `idempotency_key` from the same user with the same body returns the same run;
    with another body or user it is a 409. A run that could not start is returned FAILED with
    the reason in `status_reason`."""
    return runs.launch(db, access, body)


@router.post("/preview", response_model=LaunchPreview)
def preview_launch(body: LaunchRequest, access: LaunchAccess, db: Db, runs: RunsService):
    """A dry run of `POST runs` with the same body: the pipeline version, environment,
    inputs (a query's matches counted), the samplesheet that would be written and the params
    with defaults applied; nothing is written and no run is made. An unknown pipeline,
    environment or dataset, or inputs the pipeline does not take, answer as a launch would
    (404, 422); problems with params or the samplesheet are listed in `problems`."""
    with db.session() as session:
        return runs.preview(session, access, body)


@router.get("", response_model=RunPage)
def list_runs(
    access: ReadAccess,
    db: Db,
    runs: RunsService,
    status: Annotated[list[Status], Query(description="Any of these statuses")] = [],  # noqa: B006
    pipeline: Annotated[str | None, Query(max_length=100)] = None,
    created_by: Annotated[str | None, Query(max_length=320, description="An email")] = None,
    since: Annotated[Instant | None, Query(description="Created at or after")] = None,
    until: Annotated[Instant | None, Query(description="Created before")] = None,
    label: Annotated[list[str], Query(description="Has this label (repeat: all of)")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
):
    """Runs, newest first; pass `next_cursor` back as `cursor` for the next page."""
    where = RunFilter(
        statuses=tuple(status),
        pipeline=pipeline,
        created_by=created_by,
        since=since,
        until=until,
        labels=tuple(label),
    )
    with db.session() as session:
        return runs.list(session, access, where, limit=limit, cursor=cursor)


@router.get("/{run}", response_model=RunPublic)
def show_run(run: RunRef, access: ReadAccess, db: Db, runs: RunsService):
    with db.session() as session:
        return runs.get(session, access, run)


@router.get("/{run}/transitions", response_model=list[RunTransitionPublic])
def run_transitions(run: RunRef, access: ReadAccess, db: Db, runs: RunsService):
    """Every state change of the run, oldest first, with its time and reason."""
    with db.session() as session:
        return runs.transitions(session, access, run)


@router.get("/{run}/tasks", response_model=RunTaskPage)
def run_tasks(
    run: RunRef,
    access: ReadAccess,
    db: Db,
    runs: RunsService,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
):
    """The run's tasks by task id, as far as the trace file and events have told."""
    with db.session() as session:
        return runs.tasks(session, access, run, limit=limit, cursor=cursor)


@router.get("/{run}/logs", response_model=RunLogPage, responses=UPSTREAM)
def run_logs(
    run: RunRef,
    access: ReadAccess,
    db: Db,
    runs: RunsService,
    source: Literal["executor", "launcher"] = "executor",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
):
    """A page of the head job's log (`executor`), or of `launcher.log` in the run directory
    (`launcher`); pass `cursor` back to read on (it is unchanged when nothing new came)."""
    return runs.logs(db, access, run, source=source, cursor=cursor, limit=limit)


@router.get("/{run}/outputs", response_model=list[RunOutputPublic])
def run_outputs(run: RunRef, access: ReadAccess, db: Db, runs: RunsService):
    """Published files and the datasets they became (empty until outputs are ingested)."""
    with db.session() as session:
        return runs.outputs(session, access, run)


@router.post("/{run}/cancel", response_model=RunPublic, responses=UPSTREAM)
def cancel_run(
    run: RunRef,
    access: LaunchAccess,
    db: Db,
    runs: RunsService,
    body: CancelRequest = CancelRequest(),  # noqa: B008 - an empty body is fine
):
    """Stop the head job and every task job; the run becomes CANCELLED. Members cancel their
    own runs, admins any. A cancelled run answers as it is; another finished run is a 409."""
    return runs.cancel(db, access, run, body.reason)


@router.post("/{run}/relaunch", response_model=RunPublic, status_code=201, responses=UPSTREAM)
def relaunch_run(
    run: RunRef,
    access: LaunchAccess,
    db: Db,
    runs: RunsService,
    body: RelaunchRequest = RelaunchRequest(),  # noqa: B008 - an empty body is fine
):
    """A new run with the same pipeline version, params, inputs and environment."""
    return runs.relaunch(db, access, run, body)


@router.post("/{run}/resume", response_model=RunPublic, status_code=201, responses=UPSTREAM)
def resume_run(
    run: RunRef,
    access: LaunchAccess,
    db: Db,
    runs: RunsService,
    body: RelaunchRequest = RelaunchRequest(),  # noqa: B008 - an empty body is fine
):
    """A new run continuing a FAILED or CANCELLED Nextflow run in the same work directory
    (`-resume`); anything else is a 409."""
    return runs.resume(db, access, run, body)
