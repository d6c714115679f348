"""SDK resources: users, tenants (with members and invitations) and API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from pydantic import TypeAdapter

from mantle.client._transport import Http
from mantle.schemas.accounts import (
    InvitationCreated,
    InvitationPublic,
    MemberPublic,
    TenantPublic,
    TokenCreated,
    TokenPublic,
    UserPublic,
)


class _Resource:
    def __init__(self, http: Http, default_tenant: Callable[[], str]) -> None:
        self._http = http
        self._default_tenant = default_tenant

    def _tenant(self, tenant: str | None) -> str:
        return tenant or self._default_tenant()


class Users(_Resource):
    def create(
        self, email: str, password: str, *, name: str = "", is_superuser: bool = False
    ) -> UserPublic:
        body = {"email": email, "password": password, "name": name, "is_superuser": is_superuser}
        return UserPublic.model_validate(self._http.request("POST", "/api/v1/users", json=body))


class Tenants(_Resource):
    def list(self) -> list[TenantPublic]:
        return TypeAdapter(list[TenantPublic]).validate_python(
            self._http.request("GET", "/api/v1/tenants")
        )

    def get(self, tenant: str | None = None) -> TenantPublic:
        data = self._http.request("GET", f"/api/v1/tenants/{self._tenant(tenant)}")
        return TenantPublic.model_validate(data)

    def create(self, slug: str, name: str = "") -> TenantPublic:
        data = self._http.request("POST", "/api/v1/tenants", json={"slug": slug, "name": name})
        return TenantPublic.model_validate(data)

    def members(self, tenant: str | None = None) -> list[MemberPublic]:
        data = self._http.request("GET", f"/api/v1/tenants/{self._tenant(tenant)}/members")
        return TypeAdapter(list[MemberPublic]).validate_python(data)

    def invite(
        self, email: str, role: str = "member", *, tenant: str | None = None
    ) -> InvitationCreated:
        """Invite an email (admins). Pass `.token` (shown once) to the invitee."""
        data = self._http.request(
            "POST",
            f"/api/v1/tenants/{self._tenant(tenant)}/invitations",
            json={"email": email, "role": role},
        )
        return InvitationCreated.model_validate(data)

    def invitations(self, tenant: str | None = None) -> list[InvitationPublic]:
        """Pending invitations (admins)."""
        data = self._http.request("GET", f"/api/v1/tenants/{self._tenant(tenant)}/invitations")
        return TypeAdapter(list[InvitationPublic]).validate_python(data)

    def revoke_invitation(
        self, invitation_id: uuid.UUID | str, *, tenant: str | None = None
    ) -> InvitationPublic:
        path = f"/api/v1/tenants/{self._tenant(tenant)}/invitations/{invitation_id}"
        return InvitationPublic.model_validate(self._http.request("DELETE", path))

    def accept(self, token: str) -> TenantPublic:
        """Join the tenant of an invitation made for your email."""
        data = self._http.request("POST", "/api/v1/invitations/accept", json={"token": token})
        return TenantPublic.model_validate(data)

    def set_role(self, user_id: uuid.UUID | str, role: str, *, tenant: str | None = None):
        path = f"/api/v1/tenants/{self._tenant(tenant)}/members/{user_id}"
        return MemberPublic.model_validate(self._http.request("PATCH", path, json={"role": role}))

    def remove_member(self, user_id: uuid.UUID | str, *, tenant: str | None = None) -> None:
        self._http.request("DELETE", f"/api/v1/tenants/{self._tenant(tenant)}/members/{user_id}")


class Tokens(_Resource):
    def create(
        self,
        name: str,
        *,
        scope: str = "write",
        expires_in_days: int | None = None,
        expires_at: datetime | None = None,
        tenant: str | None = None,
    ) -> TokenCreated:
        body = {
            "name": name,
            "scope": scope,
            "expires_in_days": expires_in_days,
            "expires_at": expires_at.isoformat() if expires_at else None,
        }
        data = self._http.request(
            "POST", f"/api/v1/tenants/{self._tenant(tenant)}/tokens", json=body
        )
        return TokenCreated.model_validate(data)

    def list(self, *, everyone: bool = False, tenant: str | None = None) -> list[TokenPublic]:
        data = self._http.request(
            "GET",
            f"/api/v1/tenants/{self._tenant(tenant)}/tokens",
            params={"all": "true"} if everyone else None,
        )
        return TypeAdapter(list[TokenPublic]).validate_python(data)

    def revoke(self, token_id: uuid.UUID | str, *, tenant: str | None = None) -> TokenPublic:
        path = f"/api/v1/tenants/{self._tenant(tenant)}/tokens/{token_id}"
        return TokenPublic.model_validate(self._http.request("DELETE", path))
