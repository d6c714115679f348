"""First start: when the database has no users, create a tenant and its owner, a superuser
(a server admin, who can create more tenants and users).

A generated password is written to `<data dir>/initial-admin-password` (mode 0600), never
logged; the server shows it on its terminal only (see `mantle.cli.server`). The file is
removed once that password is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mantle.accounts import secrets, service
from mantle.accounts.secrets import Passwords
from mantle.db.repositories import users as user_repo
from mantle.private_files import write_private_file
from mantle.schemas.accounts import TenantCreate, UserCreate
from mantle.settings import BootstrapSettings

INITIAL_PASSWORD_FILE = "initial-admin-password"


@dataclass(frozen=True)
class BootstrapResult:
    email: str
    tenant: str
    # Where the generated password was written; None when it came from the settings.
    password_file: Path | None
    password: str = field(repr=False)


def bootstrap_if_empty(
    session: Session, settings: BootstrapSettings, data_dir: Path, passwords: Passwords
) -> BootstrapResult | None:
    if user_repo.count(session) > 0:
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or secrets.random_password()
    user = service.create_user(
        session,
        passwords,
        UserCreate(email=settings.admin_email, name="Admin", password=password, is_superuser=True),
    )
    tenant = TenantCreate(slug=settings.tenant, name=settings.tenant)
    service.create_tenant(session, user.id, tenant)
    password_file = None
    if not given:
        # Written before the caller commits: if it cannot be written, no admin is made
        # whose password nobody knows.
        password_file = (data_dir / INITIAL_PASSWORD_FILE).resolve()
        write_private_file(password_file, password + "\n")
    return BootstrapResult(user.email, settings.tenant, password_file, password)


def forget_initial_password(data_dir: Path, old_password: str) -> bool:
    """Remove the first-start password file once the password it holds has been changed.
    Only when it holds exactly `old_password`: another user's change leaves it alone."""
    path = data_dir / INITIAL_PASSWORD_FILE
    try:
        if path.read_text().rstrip("\n") != old_password:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    return True
