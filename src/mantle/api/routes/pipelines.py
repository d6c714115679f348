"""Pipelines of a tenant: register (a new pipeline or a new version of one), list, show,
versions, and the launch form (params schema)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Path, Query

from mantle.api.deps import Db, PipelinesService, ReadAccess, WriteAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.errors import InvalidInputError
from mantle.pipelines.service import default_name, version_public
from mantle.schemas.bounds import Version
from mantle.schemas.pipelines import (
    PIPELINE_NAME_PATTERN,
    ParamsForm,
    PipelineCreate,
    PipelinePublic,
    PipelineVersionPublic,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/pipelines", tags=["pipelines"], responses=TENANT_ERRORS
)
Ref = Path(description="Pipeline name or id", max_length=100)


@router.get("", response_model=list[PipelinePublic])
def list_pipelines(access: ReadAccess, db: Db, pipelines: PipelinesService):
    """Every pipeline of the tenant, the built-in ones included, with its latest version."""
    with db.session() as session:
        return pipelines.list(session, access)


@router.post("", response_model=PipelineVersionPublic, status_code=201, responses=CONFLICT)
def register_pipeline(
    body: PipelineCreate, access: WriteAccess, db: Db, pipelines: PipelinesService
):
    """Register a pipeline from git at a revision (tag, branch or commit), resolved to its
    exact commit now. Registering an existing name adds a version; registering what the
    latest version already is returns it unchanged. An unreachable repository or unknown
    revision answers 422 with git's message."""
    if body.name:
        pipelines.check_name(body.name)
    # git runs before the transaction opens: a slow fetch holds no database session.
    snapshot = pipelines.inspect(body.repository, body.revision, samplesheet=body.samplesheet)
    name = body.name or default_name(body.repository)
    if not re.fullmatch(PIPELINE_NAME_PATTERN, name):
        raise InvalidInputError(f"name: {name[:100]!r} is not a valid pipeline name; give one")
    with db.session() as session:
        version = pipelines.register(
            session,
            access,
            name=name,
            repository=body.repository,
            revision=body.revision,
            description=body.description,
            output_rules=body.output_rules,
            samplesheet=body.samplesheet,
            snapshot=snapshot,
        )
        return version_public(version)


@router.get("/{ref}", response_model=PipelinePublic)
def get_pipeline(access: ReadAccess, db: Db, pipelines: PipelinesService, ref: str = Ref):
    with db.session() as session:
        return pipelines.describe(session, access, ref)


@router.get("/{ref}/versions", response_model=list[PipelineVersionPublic])
def list_pipeline_versions(access: ReadAccess, db: Db, pipelines: PipelinesService, ref: str = Ref):
    with db.session() as session:
        return [version_public(v) for v in pipelines.versions(session, access, ref)]


@router.get("/{ref}/versions/{version}", response_model=PipelineVersionPublic)
def get_pipeline_version(
    version: Version, access: ReadAccess, db: Db, pipelines: PipelinesService, ref: str = Ref
):
    with db.session() as session:
        return version_public(pipelines.version(session, access, ref, version))


@router.get("/{ref}/schema", response_model=ParamsForm)
def get_pipeline_schema(
    access: ReadAccess,
    db: Db,
    pipelines: PipelinesService,
    ref: str = Ref,
    version: Version | None = Query(default=None, description="Default: the latest."),
):
    """The launch form: params in groups with types, defaults, enums, help text and which
    are hidden; the param that takes a samplesheet and the samplesheet's columns."""
    with db.session() as session:
        return pipelines.schema(session, access, ref, version)
