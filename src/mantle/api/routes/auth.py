"""Logging in and out (browser sessions), exchanging a password for a CLI token, and whoami."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mantle.accounts import authn, secrets, service
from mantle.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AppSettings,
    CurrentPrincipal,
    Db,
    client_address,
)
from mantle.db.engine import Database
from mantle.db.models import SqlUser
from mantle.db.repositories import tenants as tenant_repo
from mantle.db.repositories import users as user_repo
from mantle.errors import AuthenticationError, InvalidInputError, NotFoundError
from mantle.schemas.accounts import (
    CliLoginRequest,
    LoginRequest,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    UserPublic,
    WhoAmI,
)
from mantle.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["auth"])


def password_login(db: Database, settings: Settings, email: str, password: str, client: str):
    """Check a password; a failure is recorded (for throttling) in a transaction of its own."""
    try:
        with db.session() as session:
            return authn.check_password_login(session, settings.auth, email, password, client)
    except AuthenticationError:
        with db.session() as session:
            authn.record_failure(session, settings.auth, email, client)
        raise


def set_session_cookies(response: Response, settings: Settings, secret: str, max_age: int):
    secure = settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    csrf = secrets.csrf_token_for(secret, settings.secret_key.get_secret_value())
    # Readable by the page's scripts (double submit); useless without the HTTP-only cookie.
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="strict",
        path="/",
    )


def start_browser_session(db: Database, settings: Settings, user: SqlUser, response: Response):
    with db.session() as session:
        secret, _expires = authn.start_session(session, settings.auth, user)
    set_session_cookies(response, settings, secret, settings.auth.session_hours * 3600)


@router.post("/auth/login", response_model=UserPublic)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: Db,
    settings: AppSettings,
) -> SqlUser:
    """Log a browser in: sets an HTTP-only session cookie and a CSRF cookie."""
    user = password_login(
        db, settings, body.email, body.password.get_secret_value(), client_address(request)
    )
    start_browser_session(db, settings, user, response)
    return user


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, db: Db) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with db.session() as session:
            authn.end_session(session, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.post("/auth/token", response_model=TokenCreated, status_code=201)
def exchange_password_for_token(
    body: CliLoginRequest,
    request: Request,
    db: Db,
    settings: AppSettings,
) -> TokenCreated:
    """Trade an email and password for a write-scope API token in one tenant (`mantle login`)."""
    user = password_login(
        db, settings, body.email, body.password.get_secret_value(), client_address(request)
    )
    with db.session() as session:
        tenants = tenant_repo.list_for_user(session, user.id)
        if body.tenant is None:
            if len(tenants) != 1:
                names = ", ".join(t.slug for t, _ in tenants) or "none"
                raise InvalidInputError(f"you belong to several tenants ({names}); pick one")
            tenant = tenants[0][0]
        else:
            tenant = next((t for t, _ in tenants if t.slug == body.tenant), None)
            if tenant is None:
                raise NotFoundError(f"tenant '{body.tenant}' not found")
        return service.create_token(session, tenant.id, user.id, TokenCreate(name=body.token_name))


@router.get("/me", response_model=WhoAmI)
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


@router.post("/me/password", status_code=204)
def change_password(
    body: PasswordChange,
    principal: CurrentPrincipal,
    db: Db,
) -> None:
    with db.session() as session:
        service.change_password(
            session,
            principal.user_id,
            body.current_password.get_secret_value(),
            body.new_password.get_secret_value(),
        )
