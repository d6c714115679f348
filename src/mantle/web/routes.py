"""Web pages. Thin like the API: resolve the caller, authorize, call the accounts service,
render. Every form carries the session's CSRF token in a hidden field. A form that succeeds
answers 303 to the page it came from, with a flash message (`web/flash.py`): refreshing that
page never submits the form again."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mantle.accounts import authn, invitations, secrets, service
from mantle.accounts.policy import Permission, Principal, Role, Scope, authorize
from mantle.api.deps import (
    SESSION_COOKIE,
    AppSettings,
    ClientAddress,
    Db,
    PasswordHashing,
    authenticate,
    check_csrf,
)
from mantle.api.sessions import clear_session_cookies, start_browser_session
from mantle.db.engine import Database
from mantle.errors import AuthenticationError, MantleError, http_status_for
from mantle.schemas.accounts import InvitationCreate, TokenCreate
from mantle.settings import Settings
from mantle.web.flash import FLASH_COOKIE, clear_flash, read_flash, set_flash

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by web pages when there is no valid session: answered with a redirect."""


class WebUser:
    """The logged-in browser: principal plus the CSRF token its forms must carry."""

    def __init__(self, principal: Principal, session_secret: str, settings: Settings) -> None:
        self.principal = principal
        self.session_secret = session_secret
        self.csrf = secrets.csrf_token_for(session_secret, settings.secret_key.get_secret_value())
        self.settings = settings

    def check_form(self, presented: str | None) -> None:
        check_csrf(self.settings, self.session_secret, presented)

    def redirect(self, target: str, **flash) -> RedirectResponse:
        """303 to `target` (POST/redirect/GET), carrying `flash` for the page there."""
        response = RedirectResponse(target, status_code=303)
        if flash:
            set_flash(response, self.settings, self.session_secret, **flash)
        return response


def web_user(request: Request, db: Db, settings: AppSettings) -> WebUser:
    secret = request.cookies.get(SESSION_COOKIE)
    try:
        principal = authenticate(db, bearer=None, session_secret=secret)
    except AuthenticationError as e:
        raise LoginRequired() from e
    return WebUser(principal, secret, settings)


WebSession = Annotated[WebUser, Depends(web_user)]


def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", next=_safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    db: Db,
    settings: AppSettings,
    passwords: PasswordHashing,
    client: ClientAddress,
    email: str = Form(max_length=320),
    password: str = Form(max_length=200),
    next: str = Form(default="/"),
) -> Response:
    try:
        user = authn.login_with_password(db, settings.auth, passwords, email, password, client)
    except MantleError as e:
        return page(
            request,
            "login.html",
            http_status_for(e),
            error=e.message,
            email=email,
            next=_safe_next(next),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_browser_session(db, settings, user, response)
    return response


@router.post("/logout")
def logout(
    db: Db,
    user: WebSession,
    csrf_token: str = Form(default=""),
) -> Response:
    user.check_form(csrf_token)
    with db.session() as session:
        authn.end_session(session, user.session_secret)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response


@router.get("/")
def home(request: Request, user: WebSession, db: Db) -> HTMLResponse:
    with db.session() as session:
        tenants = service.list_tenants(session, user.principal)
    return page(request, "home.html", user=user, tenants=tenants)


def _tenant_page(
    request: Request, db: Database, user: WebUser, tenant: str, status_code=200, **extra
) -> HTMLResponse:
    with db.session() as session:
        access = authorize(session, user.principal, tenant, Permission.read)
        members = service.list_members(session, access)
        tokens = service.list_tokens(session, access, everyone=False)
        can_admin = access.allows(Permission.admin)
        pending = invitations.list_pending(session, access) if can_admin else []
    flash = read_flash(request, user.settings, user.session_secret)
    response = page(
        request,
        "tenant.html",
        status_code,
        user=user,
        tenant=access.tenant,
        access=access,
        members=members,
        tokens=tokens,
        roles=list(Role),
        scopes=list(Scope),
        can_admin=can_admin,
        invitations=pending,
        **{**flash, **extra},
    )
    if request.cookies.get(FLASH_COOKIE):
        clear_flash(response)  # shown once
    if "created" in flash or "invited" in flash:
        response.headers["Cache-Control"] = "no-store"  # the page holds a new token
    return response


@router.get("/t/{tenant}")
def tenant_home(
    db: Db,
    request: Request,
    tenant: str,
    user: WebSession,
) -> HTMLResponse:
    return _tenant_page(request, db, user, tenant)


@router.post("/t/{tenant}/tokens")
def create_token(
    request: Request,
    tenant: str,
    db: Db,
    settings: AppSettings,
    user: WebSession,
    name: str = Form(max_length=200),
    scope: Scope = Form(default=Scope.write),
    expires_in_days: str = Form(default=""),
    csrf_token: str = Form(default=""),
) -> Response:
    user.check_form(csrf_token)
    try:
        days = int(expires_in_days) if expires_in_days.strip() else None
        data = TokenCreate(name=name, scope=scope, expires_in_days=days)
        with db.session() as session:
            access = authorize(session, user.principal, tenant, Permission.read)
            created = service.create_token_for(
                session, access, data, max_days=settings.auth.token_max_days
            )
    except (ValueError, MantleError) as e:
        message = e.message if isinstance(e, MantleError) else f"invalid token settings: {e}"
        status = http_status_for(e) if isinstance(e, MantleError) else 422
        return _tenant_page(request, db, user, tenant, status, error=message)
    created_token = {"name": created.name, "token": created.token}
    return user.redirect(f"/t/{quote(tenant)}", created=created_token)


@router.post("/t/{tenant}/tokens/{token_id}/revoke")
def revoke_token(
    tenant: str,
    token_id: uuid.UUID,
    db: Db,
    user: WebSession,
    csrf_token: str = Form(default=""),
) -> Response:
    user.check_form(csrf_token)
    with db.session() as session:
        access = authorize(session, user.principal, tenant, Permission.read)
        service.revoke_token(session, access, token_id)
    return user.redirect(f"/t/{quote(tenant)}", notice="Token revoked.")


@router.post("/t/{tenant}/invitations")
def invite(
    request: Request,
    tenant: str,
    db: Db,
    settings: AppSettings,
    user: WebSession,
    email: str = Form(max_length=320),
    role: Role = Form(default=Role.member),
    csrf_token: str = Form(default=""),
) -> Response:
    user.check_form(csrf_token)
    try:
        data = InvitationCreate(email=email, role=role)
        with db.session() as session:
            access = authorize(session, user.principal, tenant, Permission.admin)
            created = invitations.invite(session, access, data, days=settings.auth.invitation_days)
    except (ValueError, MantleError) as e:
        message = e.message if isinstance(e, MantleError) else f"invalid email: {email}"
        status = http_status_for(e) if isinstance(e, MantleError) else 422
        return _tenant_page(request, db, user, tenant, status, member_error=message)
    invited = {"email": created.email, "role": str(created.role), "token": created.token}
    return user.redirect(f"/t/{quote(tenant)}", invited=invited)


@router.post("/t/{tenant}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    tenant: str,
    invitation_id: uuid.UUID,
    db: Db,
    user: WebSession,
    csrf_token: str = Form(default=""),
) -> Response:
    user.check_form(csrf_token)
    with db.session() as session:
        access = authorize(session, user.principal, tenant, Permission.admin)
        invitations.revoke(session, access, invitation_id)
    return user.redirect(f"/t/{quote(tenant)}", notice="Invitation revoked.")


def _safe_next(target: str) -> str:
    # Only same-site paths: an open redirect would turn the login page into a phishing aid.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def is_web_path(path: str) -> bool:
    return not path.startswith(
        ("/api/", "/storage/", "/healthz", "/readyz", "/docs", "/openapi.json", "/static/")
    )


def error_page(request: Request, error: MantleError) -> HTMLResponse | None:
    if not is_web_path(request.url.path):
        return None
    return page(request, "error.html", http_status_for(error), error=error)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_redirect(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
