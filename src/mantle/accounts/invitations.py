"""Invitations: how people join a tenant. An admin invites an email with a role and passes the
token (shown once, stored as a digest, expiring) to the invitee, who accepts explicitly: as a
logged-in user, or by setting a password (`sign_up`).

Nothing here tells an admin whether an email has an account: inviting, listing and revoking
answer the same either way, and so does `sign_up` (which creates the account, or, when one
exists, joins only if the password given is that account's, without changing it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mantle.accounts import secrets, service, throttle
from mantle.accounts.policy import Principal, Scope, TenantAccess
from mantle.accounts.secrets import Passwords
from mantle.db.engine import Database
from mantle.db.models import SqlInvitation
from mantle.db.repositories import credentials as cred_repo
from mantle.db.repositories import tenants as tenant_repo
from mantle.db.repositories import users as user_repo
from mantle.errors import ConflictError, NotFoundError, PermissionDeniedError
from mantle.schemas.accounts import (
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    InvitationSignupResult,
    TenantPublic,
)
from mantle.settings import AuthSettings

UNUSABLE = "this invitation is unknown, expired, revoked or already used; ask for a new one"


def invitation_public(row: SqlInvitation) -> InvitationPublic:
    return InvitationPublic(
        id=row.id,
        email=row.email,
        role=row.role,
        invited_by=row.invited_by.email if row.invited_by else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def invite(
    session: Session, access: TenantAccess, data: InvitationCreate, *, days: int
) -> InvitationCreated:
    """A new invitation; it replaces a pending one for the same email."""
    service.check_may_grant(access, data.role)
    email = data.email.lower()
    # Admins see the member list anyway, so saying so reveals nothing about other tenants.
    if tenant_repo.get_member_by_email(session, access.tenant_id, email) is not None:
        raise ConflictError(f"{email} is already a member; change their role instead")
    now = datetime.now(UTC)
    for older in cred_repo.pending_invitations(session, access.tenant_id, now, email=email):
        older.revoked_at = now
    token = secrets.new_invitation_token()
    row = cred_repo.add_invitation(
        session,
        tenant_id=access.tenant_id,
        email=email,
        role=data.role,
        token_hash=secrets.digest(token),
        invited_by_id=access.principal.user_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return InvitationCreated(**invitation_public(row).model_dump(), token=token)


def list_pending(session: Session, access: TenantAccess) -> list[InvitationPublic]:
    rows = cred_repo.pending_invitations(session, access.tenant_id, datetime.now(UTC))
    return [invitation_public(row) for row in rows]


def revoke(session: Session, access: TenantAccess, invitation_id: uuid.UUID) -> InvitationPublic:
    row = cred_repo.get_invitation(session, access.tenant_id, invitation_id)
    if row is None:
        raise NotFoundError("invitation not found")
    if row.accepted_at is not None:
        raise ConflictError("this invitation was already accepted; remove the member instead")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return invitation_public(row)


def accept(session: Session, principal: Principal, token: str) -> TenantPublic:
    """A logged-in user joins the tenant an invitation for their email names."""
    if principal.token_scope is Scope.read:
        raise PermissionDeniedError("accepting an invitation needs a write-scope token")
    row = _usable(session, token)
    if row.email != principal.email.lower():
        raise PermissionDeniedError(
            "this invitation is for another email address: log in as the invited user"
        )
    if tenant_repo.get_membership(session, row.tenant_id, principal.user_id) is not None:
        raise ConflictError(f"you are already a member of '{row.tenant.slug}'")
    _join(session, row, principal.user_id)
    return service.tenant_public(row.tenant, row.role)


def sign_up(
    db: Database,
    settings: AuthSettings,
    passwords: Passwords,
    token: str,
    password: str,
    *,
    name: str,
    client: str,
) -> InvitationSignupResult:
    """Accept by password: create the invited email's account with it, or, when the account
    exists, join if it is that account's password. Both answer alike (and cost one hash and
    one check), so an admin holding the token learns nothing from the answer; the password
    check is throttled like a login."""
    with db.session() as session:
        email = _usable(session, token).email
    attempt = throttle.reserve(db, settings, email, client)
    new_hash = passwords.hash(password)
    with db.session() as session:
        row = _usable(session, token)
        user = user_repo.get_by_email(session, email)
        if user is None:
            passwords.verify(None, password)
            user = user_repo.add(session, email, new_hash, name=name)
        elif not (user.is_active and passwords.verify(user.password_hash, password)):
            return _signup_result(row)  # the failure stays counted
        throttle.succeeded(session, attempt)
        if tenant_repo.get_membership(session, row.tenant_id, user.id) is None:
            _join(session, row, user.id)
        else:
            row.accepted_at = datetime.now(UTC)
        return _signup_result(row)


def _signup_result(row: SqlInvitation) -> InvitationSignupResult:
    return InvitationSignupResult(
        email=row.email,
        tenant=row.tenant.slug,
        message=f"log in as {row.email} to use '{row.tenant.slug}'. An account that existed "
        "before keeps its password, and joined only if that was the password given.",
    )


def _usable(session: Session, token: str) -> SqlInvitation:
    row = cred_repo.get_invitation_by_hash(session, secrets.digest(token))
    usable = (
        row is not None
        and row.accepted_at is None
        and row.revoked_at is None
        and row.expires_at > datetime.now(UTC)
    )
    if not usable:
        raise NotFoundError(UNUSABLE)
    return row


def _join(session: Session, row: SqlInvitation, user_id: uuid.UUID) -> None:
    tenant_repo.add_member(session, row.tenant_id, user_id, row.role)
    row.accepted_at = datetime.now(UTC)
