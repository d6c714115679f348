"""First start: when the database has no users, create a tenant and its owner, a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mantle.accounts import secrets, service
from mantle.db.repositories import users as user_repo
from mantle.schemas.accounts import TenantCreate, UserCreate
from mantle.settings import BootstrapSettings


@dataclass(frozen=True)
class BootstrapResult:
    email: str
    password: str
    tenant: str
    generated_password: bool


def bootstrap_if_empty(session: Session, settings: BootstrapSettings) -> BootstrapResult | None:
    if user_repo.count(session) > 0:
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or secrets.random_password()
    user = service.create_user(
        session,
        UserCreate(email=settings.admin_email, name="Admin", password=password, is_superuser=True),
    )
    tenant = TenantCreate(slug=settings.tenant, name=settings.tenant)
    service.create_tenant(session, user.id, tenant)
    return BootstrapResult(user.email, password, settings.tenant, generated_password=not given)
