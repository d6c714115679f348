"""Tenants and their members (who join by invitation: `routes.invitations`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from mantle.accounts import service
from mantle.accounts.policy import require_server_admin
from mantle.api.deps import AdminAccess, CurrentPrincipal, Db, ReadAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS, error_responses
from mantle.db.repositories import tenants as tenant_repo
from mantle.schemas.accounts import (
    MemberPublic,
    MemberUpdate,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
)

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"], responses=error_responses(401))
# Changes under /{tenant} answer what the tenant check does, and may conflict.
CHANGE_IN_TENANT = {**TENANT_ERRORS, **CONFLICT}


@router.get("", response_model=list[TenantPublic])
def list_tenants(principal: CurrentPrincipal, db: Db) -> list[TenantPublic]:
    """The tenants you belong to (only the token's own tenant when called with a token)."""
    with db.session() as session:
        return service.list_tenants(session, principal)


@router.post("", response_model=TenantPublic, status_code=201, responses=error_responses(403, 409))
def create_tenant(
    body: TenantCreate,
    principal: CurrentPrincipal,
    db: Db,
) -> TenantPublic:
    """Create a tenant; you become its owner. With an API token (which belongs to one
    tenant), only a server admin's write-scope token can."""
    if principal.via_token:
        require_server_admin(principal, "create tenants with an API token")
    with db.session() as session:
        tenant = service.create_tenant(session, principal.user_id, body)
        return service.tenant_public(tenant, "owner")


@router.get("/{tenant}", response_model=TenantPublic, responses=TENANT_ERRORS)
def get_tenant(access: ReadAccess) -> TenantPublic:
    return service.tenant_public(access.tenant, access.role)


@router.patch("/{tenant}", response_model=TenantPublic, responses=CHANGE_IN_TENANT)
def update_tenant(
    body: TenantUpdate,
    access: AdminAccess,
    db: Db,
) -> TenantPublic:
    with db.session() as session:
        tenant = tenant_repo.get_by_slug(session, access.tenant.slug)
        tenant.name = body.name
        return service.tenant_public(tenant, access.role)


@router.get("/{tenant}/members", response_model=list[MemberPublic], responses=TENANT_ERRORS)
def list_members(access: ReadAccess, db: Db) -> list[MemberPublic]:
    with db.session() as session:
        return service.list_members(session, access)


@router.patch(
    "/{tenant}/members/{user_id}", response_model=MemberPublic, responses=CHANGE_IN_TENANT
)
def update_member(
    user_id: uuid.UUID,
    body: MemberUpdate,
    access: AdminAccess,
    db: Db,
) -> MemberPublic:
    with db.session() as session:
        return service.update_member(session, access, user_id, body.role)


@router.delete("/{tenant}/members/{user_id}", status_code=204, responses=CHANGE_IN_TENANT)
def remove_member(
    user_id: uuid.UUID,
    access: AdminAccess,
    db: Db,
) -> None:
    with db.session() as session:
        service.remove_member(session, access, user_id)
