"""Test data made through the services (fast) plus helpers to call the API as someone."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from mantle.accounts import service
from mantle.db.engine import Database
from mantle.db.repositories import tenants as tenant_repo
from mantle.db.repositories import users as user_repo
from mantle.schemas.accounts import TenantCreate, TokenCreate, UserCreate

PASSWORD = "correct horse battery"


@dataclass
class Member:
    email: str
    user_id: str
    tenant: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, db: Database, api: TestClient) -> None:
        self.db = db
        self.api = api
        # The app's own hashing, at the test settings' (cheap) cost.
        self.passwords = api.app.state.services.passwords
        self.settings = api.app.state.settings

    def user(self, email: str, *, superuser: bool = False) -> str:
        with self.db.session() as s:
            data = UserCreate(email=email, password=PASSWORD, is_superuser=superuser)
            user = user_repo.get_by_email(s, email) or service.create_user(s, self.passwords, data)
            return str(user.id)

    def tenant(self, slug: str, owner_email: str) -> str:
        owner_id = self.user(owner_email)
        with self.db.session() as s:
            service.create_tenant(
                s, user_repo.get_by_email(s, owner_email).id, TenantCreate(slug=slug)
            )
        return owner_id

    def member(
        self, tenant: str, email: str, role: str = "member", *, scope: str = "write", **token_fields
    ) -> Member:
        """A user with `role` in `tenant` (created as needed) and an API token for it."""
        user_id = self.user(email)
        with self.db.session() as s:
            t = tenant_repo.get_by_slug(s, tenant)
            if t is None:
                t = service.create_tenant(
                    s, user_repo.get(s, _uuid(user_id)).id, TenantCreate(slug=tenant)
                )
            membership = tenant_repo.get_membership(s, t.id, _uuid(user_id))
            if membership is None:
                tenant_repo.add_member(s, t.id, _uuid(user_id), role)
            else:
                membership.role = role
            created = service.create_token(
                s,
                t.id,
                _uuid(user_id),
                TokenCreate(name=f"{email} token", scope=scope, **token_fields),
                max_days=self.settings.auth.token_max_days,
            )
        return Member(email=email, user_id=user_id, tenant=tenant, token=created.token)

    def browser_login(self, email: str, client: TestClient | None = None) -> TestClient:
        client = client or self.api
        response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return client


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)
