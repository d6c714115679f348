"""Data types of a tenant: list, create, show, change (a new version), version history."""

from __future__ import annotations

from fastapi import APIRouter, Path

from mantle.api.deps import CatalogService, Db, ReadAccess, WriteAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.schemas.bounds import Version
from mantle.schemas.catalog import (
    DataTypeCreate,
    DataTypePublic,
    DataTypeUpdate,
    DataTypeVersionPublic,
)

router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/data-types", tags=["catalog"], responses=TENANT_ERRORS
)
TypeName = Path(description="Data type name, e.g. fastq_pair", max_length=64)


@router.get("", response_model=list[DataTypePublic])
def list_data_types(access: ReadAccess, db: Db, catalog: CatalogService):
    """Every data type of the tenant, the built-in ones included."""
    with db.session() as session:
        return catalog.types.list(session, access)


@router.post("", response_model=DataTypePublic, status_code=201, responses=CONFLICT)
def create_data_type(body: DataTypeCreate, access: WriteAccess, db: Db, catalog: CatalogService):
    with db.session() as session:
        return catalog.types.create(session, access, body)


@router.get("/{data_type}", response_model=DataTypePublic)
def get_data_type(access: ReadAccess, db: Db, catalog: CatalogService, data_type: str = TypeName):
    with db.session() as session:
        return catalog.types.get(session, access, data_type)


@router.patch("/{data_type}", response_model=DataTypePublic, responses=CONFLICT)
def update_data_type(
    body: DataTypeUpdate,
    access: WriteAccess,
    db: Db,
    catalog: CatalogService,
    data_type: str = TypeName,
):
    """Make a new version of the type. Existing datasets keep the version they were checked
    against until their properties change."""
    with db.session() as session:
        return catalog.types.update(session, access, data_type, body)


@router.get("/{data_type}/versions", response_model=list[DataTypeVersionPublic])
def list_data_type_versions(
    access: ReadAccess, db: Db, catalog: CatalogService, data_type: str = TypeName
):
    with db.session() as session:
        return catalog.types.versions(session, access, data_type)


@router.get("/{data_type}/versions/{version}", response_model=DataTypeVersionPublic)
def get_data_type_version(
    version: Version, access: ReadAccess, db: Db, catalog: CatalogService, data_type: str = TypeName
):
    with db.session() as session:
        return catalog.types.version(session, access, data_type, version)
