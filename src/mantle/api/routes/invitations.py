"""Invitations: tenant admins invite by email (`/tenants/{tenant}/invitations`); the invitee
accepts as a logged-in user or signs up with the token (`/invitations/...`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from mantle.accounts import invitations
from mantle.api.deps import (
    AdminAccess,
    AppSettings,
    ClientAddress,
    CurrentPrincipal,
    Db,
    PasswordHashing,
)
from mantle.api.errors import CONFLICT, TENANT_ERRORS, error_responses
from mantle.schemas.accounts import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    InvitationSignup,
    InvitationSignupResult,
    TenantPublic,
)

tenant_router = APIRouter(
    prefix="/api/v1/tenants/{tenant}/invitations", tags=["tenants"], responses=TENANT_ERRORS
)
router = APIRouter(prefix="/api/v1/invitations", tags=["tenants"])


@tenant_router.post("", response_model=InvitationCreated, status_code=201, responses=CONFLICT)
def invite(
    body: InvitationCreate, access: AdminAccess, db: Db, settings: AppSettings
) -> InvitationCreated:
    """Invite an email with a role. The token is shown once: pass it to the invitee. The
    answer is the same whether or not the email has an account on this server."""
    with db.session() as session:
        return invitations.invite(session, access, body, days=settings.auth.invitation_days)


@tenant_router.get("", response_model=list[InvitationPublic])
def list_invitations(access: AdminAccess, db: Db) -> list[InvitationPublic]:
    """Pending invitations (not yet accepted, revoked or expired)."""
    with db.session() as session:
        return invitations.list_pending(session, access)


@tenant_router.delete("/{invitation_id}", response_model=InvitationPublic, responses=CONFLICT)
def revoke_invitation(invitation_id: uuid.UUID, access: AdminAccess, db: Db) -> InvitationPublic:
    with db.session() as session:
        return invitations.revoke(session, access, invitation_id)


@router.post(
    "/accept", response_model=TenantPublic, responses=error_responses(401, 403, 404, 409, 422)
)
def accept(body: InvitationAccept, principal: CurrentPrincipal, db: Db) -> TenantPublic:
    """Join the tenant of an invitation made for your email."""
    with db.session() as session:
        return invitations.accept(session, principal, body.token.get_secret_value())


@router.post(
    "/signup", response_model=InvitationSignupResult, responses=error_responses(404, 409, 422, 429)
)
def sign_up(
    body: InvitationSignup,
    db: Db,
    settings: AppSettings,
    passwords: PasswordHashing,
    client: ClientAddress,
) -> InvitationSignupResult:
    """Accept without logging in: a new account gets this password; an existing account joins
    only if this is its password (unchanged). Then log in as the returned email."""
    return invitations.sign_up(
        db,
        settings.auth,
        passwords,
        body.token.get_secret_value(),
        body.password.get_secret_value(),
        name=body.name,
        client=client,
    )
