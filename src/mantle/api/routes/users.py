"""Server-wide user administration (superusers only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mantle.accounts import service
from mantle.accounts.policy import Principal, Scope
from mantle.api.deps import CurrentPrincipal, Db
from mantle.db.models import SqlUser
from mantle.errors import PermissionDeniedError
from mantle.schemas.accounts import UserCreate, UserPublic

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def _superuser(principal: CurrentPrincipal) -> Principal:
    if not principal.is_superuser:
        raise PermissionDeniedError("only a server admin can manage users")
    if principal.token_scope is not None and principal.token_scope is not Scope.write:
        raise PermissionDeniedError("managing users needs a write-scope token")
    return principal


Superuser = Annotated[Principal, Depends(_superuser)]


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, _admin: Superuser, db: Db) -> SqlUser:
    with db.session() as session:
        return service.create_user(session, body)
