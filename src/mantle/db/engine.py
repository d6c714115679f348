"""The database handle: one engine and session factory per process, built from settings.

`Database.session()` is the one session scope: it commits on success, rolls back on error and
translates SQLAlchemy errors into Mantle's exception tree (a value the database cannot store
becomes a 422; any other data error stays a server error). `check_connection()` is the
start-up probe: a database that cannot be reached becomes one line saying what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mantle.db import dialects
from mantle.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    MantleError,
    ServiceUnavailableError,
)
from mantle.private_files import create_private_file


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = dialects.normalize_url(url)
        prepare_sqlite_file(self.url)
        self.engine = create_engine(self.url, echo=echo, **dialects.engine_options(self.url))
        dialects.configure_engine(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except MantleError:
            session.rollback()
            raise
        except IntegrityError as e:
            session.rollback()
            raise ConflictError("the change conflicts with existing data") from e
        except OperationalError as e:
            session.rollback()
            raise ServiceUnavailableError("the database is unavailable; try again") from e
        except (DataError, OverflowError) as e:
            session.rollback()
            problem = dialects.value_problem(e)
            if problem is None:
                raise
            raise InvalidInputError(problem) from e
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as e:
            raise ServiceUnavailableError("the database is unavailable") from e

    def check_connection(self) -> None:
        """Connect once; a failure raises an error that says which database and what to do."""
        try:
            with self.engine.connect():
                pass
        except OperationalError as e:
            raise connection_error(self.url, e) from e

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_sqlite_file(url: str) -> None:
    """Make a SQLite database's folder (0700) and empty file (0600) so that SQLite, which
    would create it world-readable, opens a private one; its WAL files copy the mode."""
    path = sqlite_path(url)
    if path is not None:
        create_private_file(path)


def describe(url: str) -> str:
    """Which database a URL names, for messages: never the password."""
    parsed = make_url(url)
    if (path := sqlite_path(url)) is not None:
        return f"the SQLite database {path.resolve()}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    user = f" as user '{parsed.username}'" if parsed.username else ""
    backend = _BACKEND_NAMES.get(parsed.get_backend_name(), parsed.get_backend_name())
    return f"the {backend} database '{parsed.database}' on {where}{user}"


_BACKEND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}

# Driver messages -> what to fix; the first match wins. Anything else is taken for a server
# that cannot be reached now, which may come back (ServiceUnavailableError, exit code 9).
_CONNECTION_FIXES = (
    (r'database "[^"]*" does not exist', ConfigurationError,
     "create it (e.g. `createdb`) or fix the database name in MANTLE_DATABASE__URL"),
    (r"password authentication|role .* does not exist|no password supplied", ConfigurationError,
     "check the user and password in MANTLE_DATABASE__URL"),
    (r"unable to open database file", ConfigurationError,
     "check that its folder exists and is writable, or set MANTLE_DATA_DIR"),
)  # fmt: skip
_UNREACHABLE_FIX = "check that the server is running and the host and port in MANTLE_DATABASE__URL"


def connection_error(url: str, error: OperationalError) -> MantleError:
    """One actionable line for a failed connection (not the driver's traceback)."""
    reason = _driver_reason(str(error.orig or error))
    problem = f"cannot connect to {describe(url)}: {reason}"
    for pattern, error_class, fix in _CONNECTION_FIXES:
        if re.search(pattern, reason):
            return error_class(f"{problem}; {fix}")
    return ServiceUnavailableError(f"{problem}; {_UNREACHABLE_FIX}")


def _driver_reason(message: str) -> str:
    # psycopg: 'connection failed: connection to server at "h", port 5432 failed: FATAL:  x'
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    reason = re.split(r"FATAL:\s*|failed:\s*", first)[-1].strip()
    return reason or first
