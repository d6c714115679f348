"""Use cases for users, tenants, members and API tokens. Callers own the transaction: every
function takes an open session and leaves committing to the caller's session scope.
New members come in by invitation (`accounts.invitations`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mantle.accounts import secrets
from mantle.accounts.policy import Permission, Principal, Role, Scope, TenantAccess
from mantle.accounts.secrets import Passwords
from mantle.db.models import SqlApiToken, SqlMembership, SqlTenant, SqlUser
from mantle.db.repositories import credentials as cred_repo
from mantle.db.repositories import tenants as tenant_repo
from mantle.db.repositories import users as user_repo
from mantle.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from mantle.schemas.accounts import (
    MemberPublic,
    TenantCreate,
    TenantPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
)

# --- users ---------------------------------------------------------------------------------


def create_user(session: Session, passwords: Passwords, data: UserCreate) -> SqlUser:
    if user_repo.get_by_email(session, data.email) is not None:
        raise ConflictError(f"a user with email {data.email} already exists")
    return user_repo.add(
        session,
        data.email,
        passwords.hash(data.password.get_secret_value()),
        name=data.name,
        is_superuser=data.is_superuser,
    )


# --- tenants and members -------------------------------------------------------------------


def create_tenant(session: Session, owner_id: uuid.UUID, data: TenantCreate) -> SqlTenant:
    if tenant_repo.get_by_slug(session, data.slug) is not None:
        raise ConflictError(f"the tenant name '{data.slug}' is taken; choose another")
    tenant = tenant_repo.add(session, data.slug, data.name or data.slug)
    tenant_repo.add_member(session, tenant.id, owner_id, Role.owner)
    return tenant


def tenant_public(tenant: SqlTenant, role: str | None = None) -> TenantPublic:
    return TenantPublic(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        created_at=tenant.created_at,
        role=Role(role) if role else None,
    )


def list_tenants(session: Session, principal: Principal) -> list[TenantPublic]:
    return [
        tenant_public(tenant, role)
        for tenant, role in tenant_repo.list_for_user(session, principal.user_id)
        if principal.can_reach(tenant.id)
    ]


def member_public(membership: SqlMembership) -> MemberPublic:
    return MemberPublic(
        user_id=membership.user_id,
        email=membership.user.email,
        name=membership.user.name,
        role=Role(membership.role),
        created_at=membership.created_at,
    )


def list_members(session: Session, access: TenantAccess) -> list[MemberPublic]:
    return [member_public(m) for m in tenant_repo.list_members(session, access.tenant_id)]


def _get_member(session: Session, access: TenantAccess, user_id: uuid.UUID) -> SqlMembership:
    membership = tenant_repo.get_membership(session, access.tenant_id, user_id)
    if membership is None:
        raise NotFoundError("member not found")
    return membership


def check_may_grant(access: TenantAccess, role: Role) -> None:
    if role is Role.owner and not access.allows(Permission.owner):
        raise PermissionDeniedError("only an owner can make someone an owner")


def _check_keeps_an_owner(session: Session, access: TenantAccess, membership) -> None:
    if membership.role == Role.owner:
        if not access.allows(Permission.owner):
            raise PermissionDeniedError("only an owner can change or remove an owner")
        if tenant_repo.count_role(session, access.tenant_id, Role.owner) <= 1:
            raise ConflictError("a tenant needs at least one owner; add another owner first")


def update_member(
    session: Session, access: TenantAccess, user_id: uuid.UUID, role: Role
) -> MemberPublic:
    membership = _get_member(session, access, user_id)
    check_may_grant(access, role)
    if role != membership.role:
        _check_keeps_an_owner(session, access, membership)
        membership.role = role
    return member_public(membership)


def remove_member(session: Session, access: TenantAccess, user_id: uuid.UUID) -> None:
    membership = _get_member(session, access, user_id)
    _check_keeps_an_owner(session, access, membership)
    session.delete(membership)


# --- API tokens ----------------------------------------------------------------------------


def token_public(token: SqlApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scope=token.scope,
        user_email=token.user.email,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def create_token(
    session: Session,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    data: TokenCreate,
    *,
    max_days: int,
) -> TokenCreated:
    """`max_days` is the server's longest token lifetime (`MANTLE_AUTH__TOKEN_MAX_DAYS`)."""
    now = datetime.now(UTC)
    expires_at = _token_expiry(data, now, max_days)
    secret = secrets.new_api_token()
    token = cred_repo.add_token(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        name=data.name,
        prefix=secrets.display_prefix(secret),
        token_hash=secrets.digest(secret),
        scope=data.scope,
        expires_at=expires_at,
        created_at=now,
    )
    return TokenCreated(**token_public(token).model_dump(), token=secret)


def _token_expiry(data: TokenCreate, now: datetime, max_days: int) -> datetime | None:
    if data.expires_in_days is not None and data.expires_at is not None:
        raise InvalidInputError("give either expires_at or expires_in_days, not both")
    if data.expires_in_days is not None:
        if data.expires_in_days > max_days:
            raise InvalidInputError(
                f"expires_in_days must be between 1 and {max_days} (the server's limit)"
            )
        return now + timedelta(days=data.expires_in_days)
    if data.expires_at is None:
        return None
    if data.expires_at <= now:
        raise InvalidInputError("expires_at is in the past")
    if data.expires_at > now + timedelta(days=max_days):
        raise InvalidInputError(f"expires_at must be within {max_days} days (the server's limit)")
    return data.expires_at


def _check_token_self_service(access: TenantAccess) -> None:
    if access.principal.token_scope is Scope.read:
        raise PermissionDeniedError("a read-scope API token cannot create or revoke tokens")


def create_token_for(
    session: Session, access: TenantAccess, data: TokenCreate, *, max_days: int
) -> TokenCreated:
    _check_token_self_service(access)
    return create_token(
        session, access.tenant_id, access.principal.user_id, data, max_days=max_days
    )


def create_login_token(
    session: Session, user_id: uuid.UUID, tenant_slug: str | None, name: str, *, max_days: int
) -> TokenCreated:
    """A write-scope token for a password login: in the named tenant, or the user's only one."""
    tenants = [tenant for tenant, _role in tenant_repo.list_for_user(session, user_id)]
    if tenant_slug is None:
        if not tenants:
            # A new server admin (`mantle users create --superuser`) starts in no tenant.
            raise InvalidInputError(
                "you are not a member of any tenant yet: a tenant admin can invite you "
                "(`mantle tenants invite EMAIL`), then accept (`mantle tenants accept TOKEN`)"
            )
        if len(tenants) > 1:
            names = ", ".join(t.slug for t in tenants)
            raise InvalidInputError(f"you belong to several tenants ({names}); pick one (--tenant)")
        tenant = tenants[0]
    else:
        tenant = next((t for t in tenants if t.slug == tenant_slug), None)
        if tenant is None:
            raise NotFoundError(f"tenant '{tenant_slug}' not found")
    return create_token(session, tenant.id, user_id, TokenCreate(name=name), max_days=max_days)


def list_tokens(session: Session, access: TenantAccess, *, everyone: bool) -> list[TokenPublic]:
    if everyone and not access.allows(Permission.admin):
        raise PermissionDeniedError("listing everyone's tokens needs the admin role")
    user_filter = None if everyone else access.principal.user_id
    return [token_public(t) for t in cred_repo.list_tokens(session, access.tenant_id, user_filter)]


def revoke_token(session: Session, access: TenantAccess, token_id: uuid.UUID) -> TokenPublic:
    _check_token_self_service(access)
    token = cred_repo.get_token(session, access.tenant_id, token_id)
    if token is None:
        raise NotFoundError("token not found")
    if token.user_id != access.principal.user_id and not access.allows(Permission.admin):
        raise PermissionDeniedError("only an admin can revoke another member's token")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
    return token_public(token)
