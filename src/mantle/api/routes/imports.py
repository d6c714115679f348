"""Read buckets and imports: browse a tenant environment's read buckets, preview an import,
run it in the background and follow its progress."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from mantle.api.deps import CatalogService, Db, ReadAccess, ReadBucketsService, WriteAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.catalog import imports
from mantle.jobs import queue
from mantle.schemas.imports import (
    BucketListing,
    BucketPublic,
    ImportCreate,
    ImportPreview,
    ImportPublic,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant}", tags=["imports"], responses=TENANT_ERRORS)


@router.get("/read-buckets", response_model=list[BucketPublic])
def list_read_buckets(
    access: ReadAccess, db: Db, buckets: ReadBucketsService, environment: str | None = None
) -> list[BucketPublic]:
    with db.session() as session:
        return buckets.configured(session, access, environment)


@router.get("/read-buckets/{bucket}/objects", response_model=BucketListing)
def browse_read_bucket(
    bucket: str,
    access: ReadAccess,
    db: Db,
    buckets: ReadBucketsService,
    prefix: str = Query(default="", max_length=1024),
    cursor: str | None = Query(default=None, max_length=4096),
    environment: str | None = None,
) -> BucketListing:
    """Folders and objects (size, date) one level below `prefix`."""
    with db.session() as session:
        opened = buckets.open(session, access, environment, bucket)
    return imports.browse(opened, prefix, cursor)


@router.post("/imports/preview", response_model=ImportPreview)
def preview_import(
    body: ImportCreate,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    buckets: ReadBucketsService,
    limit: int = Query(default=50, ge=1, le=1000),
) -> ImportPreview:
    """Dry run: the datasets the import would create (and skip, and why)."""
    with db.session() as session:
        opened = buckets.open(session, access, body.environment, body.bucket)
        return imports.preview(session, catalog, access, opened, body, limit)


@router.post("/imports", response_model=ImportPublic, status_code=202, responses=CONFLICT)
def start_import(
    body: ImportCreate,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    buckets: ReadBucketsService,
) -> ImportPublic:
    """Queue the import; follow it with GET /imports/{id}."""
    with db.session() as session:
        opened = buckets.open(session, access, body.environment, body.bucket)
        imports.check_spec(session, catalog, access, opened, body)
        job = queue.enqueue(
            session, access.tenant_id, imports.JOB_KIND, {"spec": body.model_dump(mode="json")},
            created_by=access.principal.user_id,
        )  # fmt: skip
        return imports.import_public(job)


@router.get("/imports", response_model=list[ImportPublic])
def list_imports(access: ReadAccess, db: Db) -> list[ImportPublic]:
    with db.session() as session:
        return [imports.import_public(j) for j in queue.recent(session, access.tenant_id,
                                                               imports.JOB_KIND)]  # fmt: skip


@router.get("/imports/{import_id}", response_model=ImportPublic)
def get_import(import_id: uuid.UUID, access: ReadAccess, db: Db) -> ImportPublic:
    with db.session() as session:
        return imports.import_public(imports.get_job(session, access, import_id))


@router.post("/imports/{import_id}/cancel", response_model=ImportPublic, responses=CONFLICT)
def cancel_import(import_id: uuid.UUID, access: WriteAccess, db: Db) -> ImportPublic:
    with db.session() as session:
        imports.get_job(session, access, import_id)
        return imports.import_public(queue.cancel(session, access.tenant_id, import_id))
