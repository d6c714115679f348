"""Every SQLite/PostgreSQL difference lives here, so the rest of the code is engine-agnostic."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url


def normalize_url(url: str) -> str:
    """Accept the URLs users write (`postgresql://`, `postgres://`) and pick our drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def engine_options(url: str) -> dict:
    if is_sqlite(url):
        # Several threads of the server share the file; waiting beats failing with "locked".
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
