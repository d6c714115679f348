"""Datasets of a tenant: list and query (filters, sort, cursor pages, count), export, create
from files already in object storage, show, change, version history, archive and restore,
lineage; and recording lineage activities.

Changes honour `If-Match: "<version>"` (or `expected_version` in the body): a stale version
answers 409. Responses for one dataset carry its version as the ETag.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from mantle.api.deps import CatalogService, Db, ReadAccess, WriteAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.catalog import export
from mantle.catalog.query import parse_where
from mantle.catalog.types import definitions
from mantle.errors import InvalidInputError
from mantle.schemas.bounds import Version
from mantle.schemas.catalog import (
    TYPE_NAME_PATTERN,
    ActivityCreate,
    ActivityPublic,
    DatasetCreate,
    DatasetPage,
    DatasetPublic,
    DatasetQuery,
    DatasetUpdate,
    DatasetVersionPublic,
    LineageGraph,
    Origin,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["catalog"], responses=TENANT_ERRORS)
DatasetRef = Annotated[str, Path(description="DS-000042 or the dataset's UUID", max_length=64)]
IfMatch = Annotated[str | None, Header(description='Expected version, e.g. "3"')]
EXPORT_PAGE = 500


class ListParams:
    """The simple query-string form of a dataset query (GET list and export)."""

    def __init__(
        self,
        type: Annotated[
            str | None, Query(description="Data type name", pattern=TYPE_NAME_PATTERN)
        ] = None,
        where: Annotated[
            list[str], Query(description="Property condition: sample=S1, depth>=30, x~=sub")
        ] = [],  # noqa: B006 - FastAPI copies defaults
        tag: Annotated[list[str], Query(description="Has this tag (repeat for all of)")] = [],  # noqa: B006
        q: Annotated[str | None, Query(description="Name contains")] = None,
        checksum: Annotated[
            list[str], Query(description="Has a file with this checksum (any of them)")
        ] = [],  # noqa: B006
        created_after: str | None = None,
        created_before: str | None = None,
        archived: Literal["exclude", "include", "only"] = "exclude",
        sort: str = "-created_at",
        filter: Annotated[str | None, Query(description="A JSON filter tree")] = None,
    ) -> None:
        leaves = [parse_where(w) for w in where]
        if q:
            leaves.append({"field": "name", "op": "contains", "value": q})
        if checksum:
            leaves.append({"field": "checksum", "op": "in", "value": checksum})
        if created_after:
            leaves.append({"field": "created_at", "op": "gte", "value": created_after})
        if created_before:
            leaves.append({"field": "created_at", "op": "lt", "value": created_before})
        if filter:
            leaves.append(_json_filter(filter))
        self.query = DatasetQuery(
            filter={"and": leaves} if leaves else None,
            data_type=type,
            tags=tag,
            archived=archived,
            sort=sort,
        )


def _json_filter(text: str) -> dict:
    try:
        tree = json.loads(text)
    except ValueError as e:
        raise InvalidInputError("filter: not valid JSON") from e
    if not isinstance(tree, dict):
        raise InvalidInputError('filter: a JSON object, e.g. {"and": [...]}')
    return tree


def _expected(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInputError('If-Match: the dataset version in quotes, e.g. "3"')
    return int(text)


def _with_etag(response: Response, dataset: DatasetPublic) -> DatasetPublic:
    response.headers["ETag"] = f'"{dataset.version}"'
    return dataset


# --- listing, querying, exporting ----------------------------------------------------------


@router.get("/datasets", response_model=DatasetPage)
def list_datasets(
    access: ReadAccess,
    db: Db,
    catalog: CatalogService,
    params: Annotated[ListParams, Depends()],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
    count: bool = False,
):
    """One page of datasets; pass `next_cursor` back as `cursor` for the next one."""
    query = params.query.model_copy(update={"limit": limit, "cursor": cursor, "count": count})
    with db.session() as session:
        return catalog.datasets.query(session, access, query)


@router.post("/datasets/query", response_model=DatasetPage)
def query_datasets(body: DatasetQuery, access: ReadAccess, db: Db, catalog: CatalogService):
    """The same as the list, with the filter tree in the body:
    `{"filter": {"and": [{"property": "sample", "op": "eq", "value": "S1"}, {"or": [...]}]}}`."""
    with db.session() as session:
        return catalog.datasets.query(session, access, body)


@router.get("/datasets/export")
def export_datasets(
    access: ReadAccess,
    db: Db,
    catalog: CatalogService,
    params: Annotated[ListParams, Depends()],
    format: Literal["csv", "tsv", "json"] = "csv",
    columns: Annotated[
        str | None, Query(description="e.g. sample,fastq_1=read1,fastq_2=read2")
    ] = None,
):
    """Every matching dataset as CSV/TSV (one column per property) or JSON, streamed."""
    query = params.query.model_copy(update={"limit": EXPORT_PAGE})
    with db.session() as session:
        catalog.datasets.selection(session, access, query)  # a bad query fails here, not midway
        declared = None
        if query.data_type:
            declared = definitions(
                catalog.types.resolve(session, access.tenant_id, query.data_type)
            )
    cols = export.columns(columns, declared)

    def page(cursor: str | None):
        with db.session() as session:
            result = catalog.datasets.query(
                session, access, query.model_copy(update={"cursor": cursor})
            )
        return result.items, result.next_cursor

    filename = f"datasets.{format}"
    return StreamingResponse(
        export.stream(format, page, cols),
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- one dataset ---------------------------------------------------------------------------


@router.post("/datasets", response_model=DatasetPublic, status_code=201, responses=CONFLICT)
def create_dataset(
    body: DatasetCreate, response: Response, access: WriteAccess, db: Db, catalog: CatalogService
):
    """Create a dataset from files already in object storage: under the tenant's own area, or
    referenced in place in a read bucket."""
    with db.session() as session:
        created = catalog.datasets.create(session, access, body, origin=Origin.api)
    return _with_etag(response, created)


@router.get("/datasets/{dataset}", response_model=DatasetPublic)
def get_dataset(
    dataset: DatasetRef, response: Response, access: ReadAccess, db: Db, catalog: CatalogService
):
    with db.session() as session:
        return _with_etag(response, catalog.datasets.get(session, access, dataset))


@router.patch("/datasets/{dataset}", response_model=DatasetPublic, responses=CONFLICT)
def update_dataset(
    dataset: DatasetRef,
    body: DatasetUpdate,
    response: Response,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    if_match: IfMatch = None,
):
    with db.session() as session:
        updated = catalog.datasets.update(
            session, access, dataset, body, expected_version=_expected(if_match)
        )
    return _with_etag(response, updated)


@router.post("/datasets/{dataset}/archive", response_model=DatasetPublic, responses=CONFLICT)
def archive_dataset(
    dataset: DatasetRef,
    response: Response,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    if_match: IfMatch = None,
):
    """Hide the dataset from lists (its history and files stay); `restore` undoes it."""
    with db.session() as session:
        archived = catalog.datasets.archive(
            session, access, dataset, expected_version=_expected(if_match)
        )
    return _with_etag(response, archived)


@router.post("/datasets/{dataset}/restore", response_model=DatasetPublic, responses=CONFLICT)
def restore_dataset(
    dataset: DatasetRef,
    response: Response,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    if_match: IfMatch = None,
):
    with db.session() as session:
        restored = catalog.datasets.restore(
            session, access, dataset, expected_version=_expected(if_match)
        )
    return _with_etag(response, restored)


@router.get("/datasets/{dataset}/versions", response_model=list[DatasetVersionPublic])
def list_dataset_versions(dataset: DatasetRef, access: ReadAccess, db: Db, catalog: CatalogService):
    with db.session() as session:
        return catalog.datasets.versions(session, access, dataset)


@router.get("/datasets/{dataset}/versions/{version}", response_model=DatasetVersionPublic)
def get_dataset_version(
    dataset: DatasetRef, version: Version, access: ReadAccess, db: Db, catalog: CatalogService
):
    with db.session() as session:
        return catalog.datasets.version(session, access, dataset, version)


@router.get("/datasets/{dataset}/lineage", response_model=LineageGraph)
def get_lineage(
    dataset: DatasetRef,
    access: ReadAccess,
    db: Db,
    catalog: CatalogService,
    depth: Annotated[int, Query(ge=1, le=20)] = 3,
    direction: Literal["both", "upstream", "downstream"] = "both",
):
    """Datasets and activities around this one, `depth` dataset-to-dataset steps away."""
    with db.session() as session:
        return catalog.lineage.graph(session, access, dataset, depth=depth, direction=direction)


# --- lineage activities --------------------------------------------------------------------


@router.post("/activities", response_model=ActivityPublic, status_code=201, responses=CONFLICT)
def record_activity(body: ActivityCreate, access: WriteAccess, db: Db, catalog: CatalogService):
    """Record work done outside Mantle: which datasets it read and which it made."""
    with db.session() as session:
        return catalog.lineage.record_activity(
            session,
            access,
            body.kind,
            inputs=body.inputs,
            outputs=body.outputs,
            details=body.details,
        )


@router.get("/activities/{activity}", response_model=ActivityPublic)
def get_activity(activity: uuid.UUID, access: ReadAccess, db: Db, catalog: CatalogService):
    with db.session() as session:
        return catalog.lineage.get_activity(session, access, activity)
