"""Web pages: the sign-in form (server-rendered, works without JavaScript), sign-out, and the
web app (`ui/`, built into `web/ui_dist`) for every other page path.

The web app is a single-page app on the public API; the server hands out its `index.html` for
any page path (the app's router takes it from there) and its hashed assets under `/assets`. A
page path without a valid session is redirected to the sign-in form first, so a signed-out
visitor never sees the app flash. Error pages of non-API paths stay server-rendered."""

from __future__ import annotations

import hmac
import secrets as secrets_lib
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope as AsgiScope

from mantle.accounts import authn
from mantle.api.deps import (
    SESSION_COOKIE,
    AppSettings,
    ClientAddress,
    Db,
    PasswordHashing,
    authenticate,
    check_csrf,
    check_same_origin,
)
from mantle.api.sessions import clear_session_cookies, start_browser_session
from mantle.errors import AuthenticationError, CsrfError, MantleError, http_status_for
from mantle.settings import Settings

HERE = Path(__file__).parent
APP_DIR = HERE / "ui_dist"  # the built web app (scripts/build-ui); carried by the wheel
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """Raised by web pages when there is no valid session: answered with a redirect."""


class WebUser:
    """The signed-in browser's session, for a form that must carry its CSRF token (sign-out)."""

    def __init__(self, session_secret: str, settings: Settings) -> None:
        self.session_secret = session_secret
        self.settings = settings

    def check_form(self, presented: str | None) -> None:
        check_csrf(self.settings, self.session_secret, presented)


def web_user(request: Request, db: Db, settings: AppSettings) -> WebUser:
    secret = request.cookies.get(SESSION_COOKIE)
    try:
        authenticate(db, bearer=None, session_secret=secret)
    except AuthenticationError as e:
        raise LoginRequired() from e
    return WebUser(secret, settings)


WebSession = Annotated[WebUser, Depends(web_user)]


def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


# The sign-in form's own CSRF token, before any session exists (double submit): a random value
# in a cookie only /login sees and in the form. A page of another site can post the form but
# can neither read nor set the cookie, whatever headers its browser sends.
LOGIN_COOKIE = "mantle_login"
LOGIN_EXPIRED = "this sign-in form expired or was sent from another site; sign in again"


def _login_page(
    request: Request, settings: Settings, status_code: int = 200, **context
) -> HTMLResponse:
    token = secrets_lib.token_urlsafe(32)
    response = page(request, "login.html", status_code, login_token=token, **context)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
def login_form(request: Request, settings: AppSettings, next: str = "/") -> HTMLResponse:
    return _login_page(request, settings, next=_safe_next(next))


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
    login_token: str = Form(default="", max_length=100),
) -> Response:
    try:
        check_same_origin(request, settings)  # what the browser says of the request's origin
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(expected, login_token):
            raise CsrfError(LOGIN_EXPIRED)
        user = authn.login_with_password(db, settings.auth, passwords, email, password, client)
    except MantleError as e:
        return _login_page(
            request,
            settings,
            http_status_for(e),
            error=e.message,
            email=email,
            next=_safe_next(next),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_browser_session(db, settings, user, response)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
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


def _safe_next(target: str) -> str:
    # Only same-site paths: an open redirect would turn the login page into a phishing aid.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


NOT_PAGES = ("/api/", "/storage/", "/healthz", "/readyz", "/docs", "/openapi.json", "/static/")
# The web app's pages (its router, ui/src/routes.tsx, has the same ones) and those a visitor
# without a session may open: accepting an invitation signs up.
APP_PAGES = ("/", "/t/{tenant}", "/t/{tenant}/{page:path}", "/invite")
PUBLIC_APP_PAGES = ("/invite",)


def is_web_path(path: str) -> bool:
    return not path.startswith(NOT_PAGES) and not path.startswith("/assets/")


def error_page(request: Request, error: MantleError) -> HTMLResponse | None:
    if not is_web_path(request.url.path):
        return None
    return page(request, "error.html", http_status_for(error), error=error)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_redirect(request: Request, _exc: LoginRequired) -> Response:
        target = "/"
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


class AppAssets(StaticFiles):
    """The web app's files under /assets: their names carry a content hash, so browsers may
    keep them for a year; a new build has new names."""

    async def get_response(self, path: str, scope: AsgiScope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mantle</title>
<link rel="stylesheet" href="/static/base.css">
<link rel="stylesheet" href="/static/mantle.css"></head><body><main><section class="card narrow">
<h1>The web app is not built</h1><p>This server has no built web app (<code>ui/</code>).
<code>make run</code> builds it (it needs Node.js 20); <code>scripts/build-ui</code> builds it
alone. The API works without it: <a href="/docs">/docs</a>.</p></section></main></body></html>"""


def install_app(app: FastAPI) -> None:
    """The web app: its assets under /assets, and its `index.html` for its pages."""
    app.mount("/assets", AppAssets(directory=APP_DIR / "assets", check_dir=False), name="assets")

    def web_app(request: Request, db: Db) -> Response:
        if not request.url.path.startswith(PUBLIC_APP_PAGES):
            try:
                authenticate(db, bearer=None, session_secret=request.cookies.get(SESSION_COOKIE))
            except AuthenticationError as e:
                raise LoginRequired() from e
        index = APP_DIR / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        # The page must be asked for again after a deploy (it names the current assets).
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    for path in APP_PAGES:
        app.add_api_route(path, web_app, methods=["GET", "HEAD"], include_in_schema=False)
