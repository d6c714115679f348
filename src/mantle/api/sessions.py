"""Browser session cookies: an HTTP-only session cookie and a script-readable CSRF cookie."""

from __future__ import annotations

from fastapi import Response

from mantle.accounts import authn, secrets
from mantle.api.deps import CSRF_COOKIE, SESSION_COOKIE
from mantle.db.engine import Database
from mantle.db.models import SqlUser
from mantle.settings import Settings


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


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
