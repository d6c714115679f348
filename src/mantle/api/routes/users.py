"""Server-wide user administration (superusers only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mantle.accounts import service
from mantle.accounts.policy import Principal, require_server_admin
from mantle.api.deps import CurrentPrincipal, Db, PasswordHashing
from mantle.api.errors import CONFLICT, error_responses
from mantle.db.models import SqlUser
from mantle.schemas.accounts import UserCreate, UserPublic

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=error_responses(401, 403))


def _superuser(principal: CurrentPrincipal) -> Principal:
    require_server_admin(principal, "manage users")
    return principal


Superuser = Annotated[Principal, Depends(_superuser)]


@router.post("", response_model=UserPublic, status_code=201, responses=CONFLICT)
def create_user(body: UserCreate, _admin: Superuser, db: Db, passwords: PasswordHashing) -> SqlUser:
    with db.session() as session:
        return service.create_user(session, passwords, body)
