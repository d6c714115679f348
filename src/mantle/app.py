"""The FastAPI application factory: the API (`mantle.api`), the web pages (`mantle.web`) and
the services they share (`mantle.services`) put together. It lives above both packages so
neither imports the other's routes. Everything the app needs is built from `Settings` here
(or injected by tests) and kept on `app.state`; nothing is created at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from mantle._version import __version__
from mantle.api.body_limit import BodyLimitMiddleware
from mantle.api.docs import install_docs
from mantle.api.errors import error_responses, install_error_handlers
from mantle.api.input_guard import refuse_nul_characters
from mantle.api.routes import auth, health, run_events, storage, tenants, tokens, users
from mantle.api.routes import datasets as dataset_routes
from mantle.api.routes import datatypes as datatype_routes
from mantle.api.routes import environments as environment_routes
from mantle.api.routes import imports as import_routes
from mantle.api.routes import invitations as invitation_routes
from mantle.api.routes import pipelines as pipeline_routes
from mantle.api.routes import runs as run_routes
from mantle.api.routes import uploads as upload_routes
from mantle.api.security_headers import SecurityHeadersMiddleware, security_headers
from mantle.db.engine import Database
from mantle.services import build_services
from mantle.settings import Settings
from mantle.storage import ObjectStore, build_object_store
from mantle.web import routes as web_routes

API_ROUTERS = (
    health.router,
    auth.router,
    users.router,
    tenants.router,
    invitation_routes.tenant_router,
    invitation_routes.router,
    tokens.router,
    environment_routes.router,
    storage.router,
    datatype_routes.router,
    dataset_routes.router,
    upload_routes.router,
    upload_routes.download_router,
    import_routes.router,
    pipeline_routes.router,
    run_routes.router,
    run_events.router,
)


def create_app(
    settings: Settings, *, db: Database | None = None, object_store: ObjectStore | None = None
) -> FastAPI:
    settings.check_safe()
    owns_db = db is None
    db = db or Database(settings.database.url, echo=settings.database.echo)

    object_store = object_store or build_object_store(settings)
    services = build_services(settings, object_store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # The embedded deployment's background work: worker threads in the server.
        worker = services.worker(db) if settings.worker.embedded else None
        if worker:
            worker.start()
        yield
        if worker:
            worker.stop(timeout=10)
        if owns_db:
            db.dispose()

    app = FastAPI(
        title="Mantle",
        version=__version__,
        description="Self-hosted data platform for biotech: catalog, pipelines, AWS.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_characters)],
        responses=error_responses(422),  # any route: the NUL check above, or its parameters
        docs_url=None,  # served from local assets by install_docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.object_store = object_store
    app.state.services = services
    install_error_handlers(app, html_page=web_routes.error_page)
    for router in API_ROUTERS:
        app.include_router(router)
    web_routes.install(app)
    install_docs(app)
    web_routes.install_app(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, headers=security_headers(settings))
    return app
