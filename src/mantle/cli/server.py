"""Server-side commands: `mantle server`, `mantle worker`, `mantle db upgrade`, `mantle users
create`. These work on the settings (`MANTLE_*`) directly, not through the API. Only `db upgrade`
creates a database; the others refuse one that is missing or not migrated.

The server side (SQLAlchemy, Alembic, argon2) is imported inside each command: every other
`mantle` command talks to the API and should not pay for loading it.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import typer

from mantle.cli.output import emit, out

if TYPE_CHECKING:
    from mantle.accounts.bootstrap import BootstrapResult
    from mantle.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

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
    from mantle.settings import load_settings

    settings = load_settings()
    migrate.upgrade(settings.database.url)
    out.print(f"database is at the latest schema ({', '.join(migrate.heads())})")


def run_server(
    host: str = typer.Option(None, help="Bind address (default MANTLE_SERVER__HOST)."),
    port: int = typer.Option(None, help="Port (default MANTLE_SERVER__PORT)."),
) -> None:
    """Start the Mantle server (API, web UI and the signed-URL endpoint of the local store)."""
    import uvicorn

    from mantle.accounts.bootstrap import bootstrap_if_empty
    from mantle.accounts.secrets import Passwords
    from mantle.api.access_log import uvicorn_log_config
    from mantle.app import create_app
    from mantle.db import migrate
    from mantle.settings import load_settings

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(create_secret_key=True, server=overrides)
    settings.check_safe()
    db = migrate.open_current(settings.database.url)
    with db.session() as session:
        created = bootstrap_if_empty(
            session, settings.bootstrap, settings.data_dir, Passwords(settings.auth.password_hash)
        )
    if created:
        _print_first_login(settings, created, show_password=sys.stdout.isatty())
    app = create_app(settings, db=db)
    out.print(f"Mantle is serving at [bold]{settings.public_url}[/bold]")
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from loopback; the
    # app reads it itself, from MANTLE_SERVER__TRUSTED_PROXIES only (`api.proxies`).
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level="info",
        log_config=uvicorn_log_config(),  # signed URLs' signatures stay out of the access log
        proxy_headers=False,
    )


def _print_first_login(
    settings: Settings, created: BootstrapResult, *, show_password: bool
) -> None:
    """The first-start banner, printed (never logged). A generated password is shown only on
    an interactive terminal; a server whose output goes to a log file names the file."""
    out.print("\n[bold green]First start: created a tenant and its admin.[/bold green]")
    out.print(f"  open      {settings.public_url}/login")
    out.print(f"  email     {created.email}")
    if created.password_file is None:
        out.print("  password  the one in MANTLE_BOOTSTRAP__ADMIN_PASSWORD")
    elif show_password:
        out.print(f"  password  {created.password}", highlight=False)
        out.print(f"            (also in {created.password_file}, removed once you change it)")
    else:
        out.print(f"  password  in {created.password_file} (removed once you change it)")
    out.print(f"  tenant    {created.tenant}")
    out.print(f"  CLI       mantle login {settings.public_url} --email {created.email}\n")


def run_worker() -> None:
    """Run background work (imports, following pipeline runs) until stopped; start as many as
    needed, they share the work through the database. Use with
    MANTLE_WORKER__EMBEDDED=false on the server; MANTLE_WORKER__THREADS jobs run at once."""
    import signal

    from mantle.db import migrate
    from mantle.services import build_services
    from mantle.settings import load_settings
    from mantle.storage import build_object_store

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = load_settings(create_secret_key=True)
    db = migrate.open_current(settings.database.url)
    worker = build_services(settings, build_object_store(settings)).worker(db)
    # SIGTERM (docker stop, systemd) stops like Ctrl-C: running jobs are handed back.
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    out.print(f"worker {worker.worker_id} started with {worker.threads} threads")
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()
    finally:
        db.dispose()


@users_app.command("create")
def users_create(
    email: str,
    name: str = typer.Option("", help="Display name."),
    superuser: bool = typer.Option(
        False, help="Server admin: can create tenants and users (`mantle tenants create`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a user; the password is asked for (or read from MANTLE_NEW_PASSWORD)."""
    import os

    from mantle.accounts import service
    from mantle.accounts.secrets import Passwords
    from mantle.db import migrate
    from mantle.schemas.accounts import UserCreate, UserPublic
    from mantle.settings import load_settings

    settings = load_settings()
    db = migrate.open_current(settings.database.url)
    password = os.environ.get("MANTLE_NEW_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        with db.session() as session:
            user = service.create_user(
                session,
                Passwords(settings.auth.password_hash),
                UserCreate(email=email, name=name, password=password, is_superuser=superuser),
            )
            emit(UserPublic.model_validate(user), as_json=as_json, columns=("id", "email"))
    finally:
        db.dispose()
