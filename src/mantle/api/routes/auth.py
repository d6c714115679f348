"""Logging in and out (browser sessions), exchanging a password for a CLI token, and whoami."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mantle.accounts import authn, bootstrap, service
from mantle.accounts.policy import Scope
from mantle.api.deps import (
    SESSION_COOKIE,
    AppSettings,
    ClientAddress,
    CurrentPrincipal,
    Db,
    PasswordHashing,
    check_same_origin,
)
from mantle.api.errors import error_responses
from mantle.api.sessions import clear_session_cookies, start_browser_session
from mantle.db.models import SqlUser
from mantle.db.repositories import users as user_repo
from mantle.errors import PermissionDeniedError
from mantle.schemas.accounts import (
    CliLoginRequest,
    LoginRequest,
    PasswordChange,
    PasswordChanged,
    TokenCreated,
    UserPublic,
    WhoAmI,
)

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/login", response_model=UserPublic, responses=error_responses(401, 403, 429))
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: Db,
    settings: AppSettings,
    passwords: PasswordHashing,
    client: ClientAddress,
) -> SqlUser:
    """Log a browser in: sets an HTTP-only session cookie and a CSRF cookie. Refused (403)
    when another site sent it."""
    check_same_origin(request, settings)
    password = body.password.get_secret_value()
    user = authn.login_with_password(db, settings.auth, passwords, body.email, password, client)
    start_browser_session(db, settings, user, response)
    return user


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, db: Db) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with db.session() as session:
            authn.end_session(session, secret)
    clear_session_cookies(response)


@router.post(
    "/auth/token",
    response_model=TokenCreated,
    status_code=201,
    responses=error_responses(401, 404, 409, 429),
)
def exchange_password_for_token(
    body: CliLoginRequest,
    db: Db,
    settings: AppSettings,
    passwords: PasswordHashing,
    client: ClientAddress,
) -> TokenCreated:
    """Trade an email and password for a write-scope API token in one tenant (`mantle login`)."""
    password = body.password.get_secret_value()
    user = authn.login_with_password(db, settings.auth, passwords, body.email, password, client)
    with db.session() as session:
        return service.create_login_token(
            session, user.id, body.tenant, body.token_name, max_days=settings.auth.token_max_days
        )


@router.get("/me", response_model=WhoAmI, responses=error_responses(401))
def whoami(principal: CurrentPrincipal, db: Db) -> WhoAmI:
    with db.session() as session:
        user = user_repo.get(session, principal.user_id)
        tenants = service.list_tenants(session, principal)
    token_tenant = next((t for t in tenants if t.id == principal.token_tenant_id), None)
    return WhoAmI(
        user=UserPublic.model_validate(user),
        tenant=token_tenant,
        token_scope=principal.token_scope,
        tenants=tenants,
    )


@router.post(
    "/me/password", response_model=PasswordChanged, responses=error_responses(401, 403, 429)
)
def change_password(
    body: PasswordChange,
    request: Request,
    principal: CurrentPrincipal,
    db: Db,
    settings: AppSettings,
    passwords: PasswordHashing,
    client: ClientAddress,
) -> PasswordChanged:
    """Change your password (the current one is checked, throttled like a login). Your other
    browser sessions end; this one, and API tokens, stay valid."""
    if principal.token_scope is Scope.read:
        raise PermissionDeniedError(
            "changing your password needs a browser session or a write-scope token"
        )
    ended = authn.change_password(
        db,
        settings.auth,
        passwords,
        principal.user_id,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
        client=client,
        keep_session=None if principal.via_token else request.cookies.get(SESSION_COOKIE),
    )
    bootstrap.forget_initial_password(settings.data_dir, body.current_password.get_secret_value())
    return PasswordChanged(
        sessions_ended=ended,
        message=f"password changed; {ended} other browser session(s) ended. API tokens stay "
        "valid: revoke any you no longer trust with `mantle tokens revoke`.",
    )
