"""Uploads: start, get presigned part URLs, check progress (resume), complete, abort."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from mantle.api.deps import CatalogService, Db, ReadAccess, ReadBucketsService, WriteAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.catalog import downloads, uploads
from mantle.schemas.catalog import DatasetPublic
from mantle.schemas.uploads import (
    DownloadLink,
    PartUrls,
    PartUrlsBatch,
    PartUrlsBatchRequest,
    PartUrlsRequest,
    UploadComplete,
    UploadCreate,
    UploadPublic,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/uploads", tags=["uploads"], responses=TENANT_ERRORS
)


@router.post("", response_model=UploadPublic, status_code=201, responses=CONFLICT)
def start_upload(body: UploadCreate, access: WriteAccess, db: Db, catalog: CatalogService):
    """Open an upload. The server picks the part size (at least 8 MiB, at most 10,000 parts
    per file); files that fit in one part are a single PUT."""
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        upload = uploads.start(session, access, body, store, catalog.datasets)
        return uploads.public(upload, store)


@router.get("/{upload_id}", response_model=UploadPublic)
def get_upload(upload_id: uuid.UUID, access: ReadAccess, db: Db, catalog: CatalogService):
    """The upload and, while it is open, the parts storage already holds (to resume)."""
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        return uploads.public(uploads.get(session, access, upload_id), store)


@router.post("/{upload_id}/urls", response_model=PartUrls, responses=CONFLICT)
def part_urls(
    upload_id: uuid.UUID, body: PartUrlsRequest, access: WriteAccess, db: Db,
    catalog: CatalogService,
) -> PartUrls:  # fmt: skip
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        return uploads.part_urls(session, access, store, upload_id, body.file_id,
                                 body.part_numbers, body.crc32)  # fmt: skip


@router.post("/{upload_id}/part-urls", response_model=PartUrlsBatch, responses=CONFLICT)
def part_urls_batch(
    upload_id: uuid.UUID, body: PartUrlsBatchRequest, access: WriteAccess, db: Db,
    catalog: CatalogService,
) -> PartUrlsBatch:  # fmt: skip
    """Presigned URLs for parts of any of the upload's files, in one request."""
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        return uploads.part_urls_batch(session, access, store, upload_id, body.parts)


@router.post(
    "/{upload_id}/complete", response_model=DatasetPublic, status_code=201, responses=CONFLICT
)
def complete_upload(
    upload_id: uuid.UUID, body: UploadComplete, access: WriteAccess, db: Db,
    catalog: CatalogService,
) -> DatasetPublic:  # fmt: skip
    """Verify sizes (and part checksums when sent), assemble the files, create the dataset."""
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        return uploads.complete(session, access, store, catalog, upload_id, body)


@router.delete("/{upload_id}", response_model=UploadPublic, responses=CONFLICT)
def abort_upload(upload_id: uuid.UUID, access: WriteAccess, db: Db, catalog: CatalogService):
    """Abort: stored parts and objects are removed; no dataset is made."""
    store = catalog.locations.tenant_store(access.tenant_id)
    with db.session() as session:
        return uploads.public(uploads.abort(session, access, store, upload_id))


download_router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/datasets", tags=["datasets"], responses=TENANT_ERRORS
)


@download_router.get("/{dataset}/download", response_model=list[DownloadLink])
def download_links(
    dataset: str, access: ReadAccess, db: Db, catalog: CatalogService, buckets: ReadBucketsService
) -> list[DownloadLink]:
    """Presigned GET URLs for each of the dataset's files (valid for an hour)."""
    with db.session() as session:
        return downloads.links(session, access, catalog, buckets, dataset)
