"""FastAPI dependencies: the app's settings and database, the calling principal, and the
`require(permission)` gate that every tenant-scoped route goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from mantle.accounts import authn, secrets
from mantle.accounts.policy import Permission, Principal, TenantAccess, authorize
from mantle.accounts.secrets import Passwords
from mantle.api import proxies
from mantle.catalog import Catalog
from mantle.catalog.read_buckets import ReadBuckets
from mantle.cloud.aws.crypto import SecretBox
from mantle.db.engine import Database
from mantle.errors import AuthenticationError, CsrfError
from mantle.pipelines.service import Pipelines
from mantle.runs.service import Runs
from mantle.settings import Settings
from mantle.storage import ObjectStore

SESSION_COOKIE = "mantle_session"
CSRF_COOKIE = "mantle_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer mtk_...`")
_session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_object_store(request: Request) -> ObjectStore:
    return request.app.state.object_store


def get_catalog(request: Request) -> Catalog:
    """The catalog services, built once by the app factory (`mantle.services`)."""
    return request.app.state.services.catalog


def get_pipelines(request: Request) -> Pipelines:
    return request.app.state.services.pipelines


def get_runs(request: Request) -> Runs:
    """The runs service (launch, cancel, read), built once by the app factory."""
    return request.app.state.services.runs


def get_read_buckets(request: Request) -> ReadBuckets:
    return request.app.state.services.read_buckets


def get_secret_box(request: Request) -> SecretBox:
    """Seals and opens stored AWS secrets, under the key derived from the server's key."""
    return request.app.state.services.secret_box


def get_passwords(request: Request) -> Passwords:
    """Hashes and checks passwords at the configured argon2 cost."""
    return request.app.state.services.passwords


def client_address(request: Request) -> str:
    """The caller's address; `X-Forwarded-For` counts only from trusted proxies."""
    peer = request.client.host if request.client else "unknown"
    networks = proxies.trusted_networks(get_settings(request).server.trusted_proxies)
    return proxies.client_address(peer, request.headers.getlist("x-forwarded-for"), networks)


def authenticate(db: Database, *, bearer: str | None, session_secret: str | None) -> Principal:
    """The caller, from an API token (preferred when both are sent) or a session cookie."""
    with db.session() as session:
        if bearer:
            return authn.authenticate_token(session, bearer)
        if session_secret:
            return authn.authenticate_session(session, session_secret)
    raise AuthenticationError("not logged in: send an API token or log in")


def check_csrf(settings: Settings, session_secret: str, presented: str | None) -> None:
    if not secrets.csrf_matches(session_secret, settings.secret_key.get_secret_value(), presented):
        raise CsrfError("missing or wrong CSRF token; reload the page and try again")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: Request, settings: Settings) -> None:
    """Refuse a browser request that another site made (login CSRF: a page elsewhere posting
    its owner's credentials to sign the visitor in as someone else). Browsers say where a
    request comes from: `Sec-Fetch-Site` (every current browser), else `Origin`. Our own pages
    send `Origin: null` (their Referrer-Policy is no-referrer), so only a named origin that is
    not ours is refused. Clients that say nothing (the CLI, curl) are not browsers and pass."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):  # "none": typed by the user
            raise CsrfError(OTHER_SITE)
        return
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    if origin.lower() not in {_origin(str(request.base_url)), _origin(settings.public_url)}:
        raise CsrfError(OTHER_SITE)


OTHER_SITE = "a sign-in sent by another site was refused; sign in on this site"


def current_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    session_secret: str | None = Depends(_session_cookie),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Principal:
    bearer = credentials.credentials if credentials else None
    principal = authenticate(db, bearer=bearer, session_secret=session_secret)
    if not bearer and request.method not in SAFE_METHODS:
        # Cookies ride along on cross-site requests; the CSRF header proves same origin.
        check_csrf(settings, session_secret, request.headers.get(CSRF_HEADER))
    return principal


def require(permission: Permission) -> Callable[..., TenantAccess]:
    """Dependency for `/tenants/{tenant}/...` routes: the caller must hold `permission`."""

    def dependency(
        tenant: str = Path(description="Tenant slug", max_length=63),
        principal: Principal = Depends(current_principal),
        db: Database = Depends(get_db),
    ) -> TenantAccess:
        with db.session() as session:
            return authorize(session, principal, tenant, permission)

    dependency.__name__ = f"require_{permission}"
    return dependency


# Annotated aliases, so routes read `access: AdminAccess` and `db: Db`.
Db = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CatalogService = Annotated[Catalog, Depends(get_catalog)]
PipelinesService = Annotated[Pipelines, Depends(get_pipelines)]
RunsService = Annotated[Runs, Depends(get_runs)]
ReadBucketsService = Annotated[ReadBuckets, Depends(get_read_buckets)]
Secrets = Annotated[SecretBox, Depends(get_secret_box)]
PasswordHashing = Annotated[Passwords, Depends(get_passwords)]
ClientAddress = Annotated[str, Depends(client_address)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
ReadAccess = Annotated[TenantAccess, Depends(require(Permission.read))]
WriteAccess = Annotated[TenantAccess, Depends(require(Permission.write))]
LaunchAccess = Annotated[TenantAccess, Depends(require(Permission.launch))]
AdminAccess = Annotated[TenantAccess, Depends(require(Permission.admin))]
