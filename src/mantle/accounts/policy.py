"""Authorization, decided in one place.

A caller (a `Principal`: a user through a browser session or an API token) asks for a
`Permission` on a tenant. Not being a member, or holding a token for another tenant, answers
404 exactly as if the tenant did not exist; a member lacking the permission gets 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from mantle.db.models import SqlTenant
from mantle.db.repositories import tenants as tenant_repo
from mantle.errors import NotFoundError, PermissionDeniedError
from mantle.schemas.accounts import Role, Scope


class Permission(StrEnum):
    read = "read"
    write = "write"
    launch = "launch"
    admin = "admin"  # members, tokens of others, tenant settings
    owner = "owner"  # owners, deleting the tenant


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset({Permission.read}),
    Role.member: frozenset({Permission.read, Permission.write, Permission.launch}),
    Role.admin: frozenset({Permission.read, Permission.write, Permission.launch, Permission.admin}),
    Role.owner: frozenset(Permission),
}

SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.read: frozenset({Permission.read}),
    Scope.write: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str
    is_superuser: bool
    # Set when the caller authenticated with an API token: it only works for that tenant.
    token_id: uuid.UUID | None = None
    token_tenant_id: uuid.UUID | None = None
    token_scope: Scope | None = None

    @property
    def via_token(self) -> bool:
        return self.token_id is not None

    def can_reach(self, tenant_id: uuid.UUID) -> bool:
        return self.token_tenant_id is None or self.token_tenant_id == tenant_id


@dataclass(frozen=True)
class TenantAccess:
    tenant: SqlTenant
    principal: Principal
    role: Role
    permissions: frozenset[Permission]

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions


def authorize(
    session: Session, principal: Principal, tenant_slug: str, permission: Permission
) -> TenantAccess:
    found = tenant_repo.get_with_role(session, tenant_slug, principal.user_id)
    if found is None or not principal.can_reach(found[0].id):
        raise NotFoundError(f"tenant '{tenant_slug}' not found")
    tenant, role_name = found
    role = Role(role_name)
    permissions = ROLE_PERMISSIONS[role]
    if principal.token_scope is not None:
        permissions = permissions & SCOPE_PERMISSIONS[principal.token_scope]
    if permission not in permissions:
        raise PermissionDeniedError(_denial(principal, role, permission))
    return TenantAccess(tenant=tenant, principal=principal, role=role, permissions=permissions)


def require_server_admin(principal: Principal, action: str) -> None:
    """Server-wide actions (creating users; tenants through a token) are for superusers, and
    through a token only with the write scope."""
    if not principal.is_superuser:
        raise PermissionDeniedError(
            f"only a server admin can {action}; one is made on the server with "
            "`mantle users create EMAIL --superuser`"
        )
    if principal.token_scope not in (None, Scope.write):
        raise PermissionDeniedError(f"to {action}, a token needs the write scope")


def _denial(principal: Principal, role: Role, permission: Permission) -> str:
    if principal.token_scope is Scope.read and permission in ROLE_PERMISSIONS[role]:
        return f"this API token has the read scope; '{permission}' needs a write-scope token"
    return f"your role in this tenant is '{role}', which does not allow '{permission}'"
