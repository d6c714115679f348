"""Server-side commands: `mantle server`, `mantle db upgrade`, `mantle users create`.
These work on the settings (`MANTLE_*`) directly, not through the API.

The server side (SQLAlchemy, Alembic, argon2) is imported inside each command: every other
`mantle` command talks to the API and should not pay for loading it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import typer

from mantle.cli.output import emit, out
from mantle.errors import ConfigurationError

if TYPE_CHECKING:
    from mantle.accounts.bootstrap import BootstrapResult
    from mantle.db.engine import Database
    from mantle.settings import Settings


def _settings(**overrides) -> Settings:
    from mantle.settings import Settings

    return Settings(**overrides)


db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
users_app = typer.Typer(help="Server-wide users (run on the server).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("server")(run_server)
    app.command("worker")(run_worker)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    from mantle.db import migrate

    settings = _settings()
    migrate.upgrade(settings.database.url)
    out.print(f"database is at the latest schema ({', '.join(migrate.heads())})")


def run_server(
    host: str = typer.Option(None, help="Bind address (default MANTLE_SERVER__HOST)."),
    port: int = typer.Option(None, help="Port (default MANTLE_SERVER__PORT)."),
) -> None:
    """Start the Mantle server (API, web UI and the signed-URL endpoint of the local store)."""
    import uvicorn

    from mantle.accounts.bootstrap import bootstrap_if_empty
    from mantle.api.app import create_app
    from mantle.db.engine import Database

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(server={**_settings().server.model_dump(), **overrides})
    settings.check_safe()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = Database(settings.database.url)
    _check_migrated(db)
    with db.session() as session:
        created = bootstrap_if_empty(session, settings.bootstrap)
    if created:
        _print_first_login(settings, created)
    app = create_app(settings, db=db)
    out.print(f"Mantle is serving at [bold]{settings.public_url}[/bold]")
    uvicorn.run(app, host=settings.server.host, port=settings.server.port, log_level="info")


def _check_migrated(db: Database) -> None:
    from alembic.migration import MigrationContext

    from mantle.db import migrate

    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    if set(current) != set(migrate.heads()):
        raise ConfigurationError("the database schema is not current: run `mantle db upgrade`")


def _print_first_login(settings: Settings, created: BootstrapResult) -> None:
    out.print("\n[bold green]First start: created a tenant and its admin.[/bold green]")
    out.print(f"  open      {settings.public_url}/login")
    out.print(f"  email     {created.email}")
    if created.generated_password:
        # Shown once, on the first start only: the account cannot be reached otherwise.
        out.print(f"  password  {created.password}")
    else:
        out.print("  password  the one in MANTLE_BOOTSTRAP__ADMIN_PASSWORD")
    out.print(f"  tenant    {created.tenant}")
    out.print(f"  CLI       mantle login {settings.public_url} --email {created.email}\n")


def run_worker() -> None:
    """Run background work (imports...) until stopped; start as many as needed. Use with
    MANTLE_WORKER__EMBEDDED=false on the server."""
    from mantle.db.engine import Database
    from mantle.services import build_services
    from mantle.storage import build_object_store

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = Database(settings.database.url)
    _check_migrated(db)
    worker = build_services(settings, build_object_store(settings)).worker(db)
    out.print(f"worker {worker.worker_id} started")
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()


@users_app.command("create")
def users_create(
    email: str,
    name: str = typer.Option("", help="Display name."),
    superuser: bool = typer.Option(False, help="Server admin (can create users)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a user; the password is asked for (or read from MANTLE_NEW_PASSWORD)."""
    import os

    from mantle.accounts import service
    from mantle.db.engine import Database
    from mantle.schemas.accounts import UserCreate, UserPublic

    password = os.environ.get("MANTLE_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = _settings()
    db = Database(settings.database.url)
    with db.session() as session:
        user = service.create_user(
            session, UserCreate(email=email, name=name, password=password, is_superuser=superuser)
        )
        emit(UserPublic.model_validate(user), as_json=as_json, columns=("id", "email"))
