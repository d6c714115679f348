"""Shared fixtures. Database-backed tests take `database` (or anything built on it) and run
once on SQLite and once on PostgreSQL (127.0.0.1:5432, or MANTLE_TEST_POSTGRES_URL); each
test session gets its own PostgreSQL database, dropped at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mantle.app import create_app
from mantle.db import migrate
from mantle.db.engine import Database
from mantle.db.models import Base
from mantle.settings import Settings
from tests import botocore_cache, route_cache
from tests.factories import Factory

route_cache.install()  # each app shares the routes FastAPI prepared for an earlier one
botocore_cache.install()  # each session shares the AWS models an earlier one parsed

POSTGRES_URL = os.environ.get(
    "MANTLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnop"
# argon2's cheapest parameters: a hash takes microseconds instead of ~0.5 s.
CHEAP_PASSWORD_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"mantle_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'mantle.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
def database(migrated_url) -> Iterator[Database]:
    db = Database(migrated_url)
    try:
        yield db
    finally:
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        db.dispose()


@pytest.fixture
def settings(tmp_path, migrated_url) -> Settings:
    return make_settings(tmp_path, migrated_url)


def make_settings(tmp_path, migrated_url: str, **overrides) -> Settings:
    """The test suite's settings: a private data dir, cheap password hashing, no embedded
    worker (tests run jobs themselves, deterministically). Packages override fields."""
    fields = {
        "data_dir": tmp_path,
        "secret_key": TEST_SECRET_KEY,
        "public_url": "http://testserver",
        "database": {"url": migrated_url},
        "storage": {"root": (tmp_path / "objects").as_uri()},
        "worker": {"embedded": False},
        "auth": {"password_hash": CHEAP_PASSWORD_HASH},
    }
    return Settings(**{**fields, **overrides})


@pytest.fixture
def app(settings, database):
    return create_app(settings, db=database)


@pytest.fixture
def api(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def factory(database, api) -> Factory:
    return Factory(database, api)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One `mantle server` process for the whole session (starting one costs seconds). Tests
    that share it make their own users, tenants or uniquely named data where counts matter."""
    from tests.live import start_live_server, stop_live_server

    server = start_live_server(tmp_path_factory.mktemp("live"))
    try:
        yield server
    finally:
        stop_live_server(server)


def pytest_terminal_summary(terminalreporter):
    """Where the browser tests left their screenshots of every page."""
    from tests.web.conftest import SCREENSHOTS

    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        count = len(list(SCREENSHOTS.glob("*.png")))
        terminalreporter.write_line(f"screenshots of the web app ({count}): {SCREENSHOTS}")
