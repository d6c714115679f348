"""API tokens: created for one tenant, shown once, stored hashed, listable and revocable."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from mantle.accounts import service
from mantle.api.deps import AppSettings, Db, ReadAccess
from mantle.api.errors import CONFLICT, TENANT_ERRORS
from mantle.schemas.accounts import TokenCreate, TokenCreated, TokenPublic

router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/tokens", tags=["tokens"], responses=TENANT_ERRORS
)


@router.get("", response_model=list[TokenPublic])
def list_tokens(
    access: ReadAccess,
    db: Db,
    all_members: bool = Query(default=False, alias="all", description="Everyone's (admins)"),
) -> list[TokenPublic]:
    with db.session() as session:
        return service.list_tokens(session, access, everyone=all_members)


@router.post("", response_model=TokenCreated, status_code=201, responses=CONFLICT)
def create_token(
    body: TokenCreate,
    access: ReadAccess,
    db: Db,
    settings: AppSettings,
) -> TokenCreated:
    """Any member can make tokens for themselves; a token never exceeds its owner's role.
    Expiry: at most `MANTLE_AUTH__TOKEN_MAX_DAYS` (default 366) days away, or never."""
    with db.session() as session:
        return service.create_token_for(
            session, access, body, max_days=settings.auth.token_max_days
        )


@router.delete("/{token_id}", response_model=TokenPublic, responses=CONFLICT)
def revoke_token(
    token_id: uuid.UUID,
    access: ReadAccess,
    db: Db,
) -> TokenPublic:
    with db.session() as session:
        return service.revoke_token(session, access, token_id)
