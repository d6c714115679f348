"""The database handle: one engine and session factory per process, built from settings.

`Database.session()` is the one session scope: it commits on success, rolls back on error and
translates SQLAlchemy errors into Mantle's exception tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mantle.db import dialects
from mantle.errors import ConflictError, MantleError, ServiceUnavailableError


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = dialects.normalize_url(url)
        _ensure_sqlite_dir(self.url)
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

    def dispose(self) -> None:
        self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
