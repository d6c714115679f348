"""Users, tenants, members and tokens as the API and SDK see them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from mantle.schemas.bounds import Instant

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


# Here rather than in accounts.policy (which decides with them) so that the SDK and CLI can
# use them without importing the database layer.
class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"
    viewer = "viewer"


class Scope(StrEnum):
    read = "read"
    write = "write"


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserPublic(_Public):
    id: uuid.UUID
    email: str
    name: str
    is_superuser: bool
    created_at: datetime


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(default="", max_length=200)
    password: SecretStr = Field(min_length=8, max_length=200)
    is_superuser: bool = False


class PasswordChange(BaseModel):
    current_password: SecretStr = Field(max_length=200)
    new_password: SecretStr = Field(min_length=8, max_length=200)


class PasswordChanged(BaseModel):
    sessions_ended: int = Field(description="Your other browser sessions, now logged out.")
    message: str


class TenantCreate(BaseModel):
    slug: str = Field(
        pattern=SLUG_PATTERN,
        description="URL name: lowercase letters, digits and dashes, 1-63 characters.",
    )
    name: str = Field(default="", max_length=200)


class TenantUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantPublic(_Public):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    role: Role | None = None


class MemberUpdate(BaseModel):
    role: Role


class MemberPublic(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    created_at: datetime


class InvitationCreate(BaseModel):
    email: EmailStr
    role: Role = Role.member


class InvitationPublic(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    invited_by: str | None = Field(description="The inviting admin's email.")
    created_at: datetime
    expires_at: datetime


class InvitationCreated(InvitationPublic):
    """Returned once, when the invitation is made: pass `token` to the invitee."""

    token: str


class InvitationAccept(BaseModel):
    token: SecretStr = Field(max_length=200)


class InvitationSignup(InvitationAccept):
    password: SecretStr = Field(
        min_length=8,
        max_length=200,
        description="A new account's password; if the invited email has an account, its "
        "current password (it is not changed).",
    )
    name: str = Field(default="", max_length=200)


class InvitationSignupResult(BaseModel):
    """The same whether or not the email already had an account: log in to continue."""

    email: str
    tenant: str
    message: str


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scope: Scope = Scope.write
    expires_at: Instant | None = None
    # The server's limit (MANTLE_AUTH__TOKEN_MAX_DAYS, default 366) is checked by the service.
    expires_in_days: int | None = Field(default=None, ge=1, le=3660)


class TokenPublic(_Public):
    id: uuid.UUID
    name: str
    prefix: str
    scope: Scope
    user_email: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    """Returned once, when the token is made: `token` is never shown again."""

    token: str


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: SecretStr = Field(max_length=200)


class CliLoginRequest(LoginRequest):
    tenant: str | None = Field(default=None, description="Tenant slug; default: your only one.")
    token_name: str = Field(default="mantle CLI", max_length=200)


class WhoAmI(BaseModel):
    user: UserPublic
    tenant: TenantPublic | None = Field(
        default=None, description="The tenant an API token is bound to."
    )
    token_scope: Scope | None = None
    tenants: list[TenantPublic]


def is_slug(value: str) -> bool:
    return re.fullmatch(SLUG_PATTERN, value) is not None
