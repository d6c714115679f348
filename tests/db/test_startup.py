"""Opening the database at start-up: only `db upgrade` creates one (private on disk); every
other server-side command refuses a missing or unmigrated database, and a database that cannot
be reached is one line saying which and what to do, not a driver traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import uuid

import pytest
from sqlalchemy.engine import make_url

from mantle.db import migrate
from mantle.errors import ConfigurationError, ServiceUnavailableError
from tests.conftest import POSTGRES_URL
from tests.live import MANTLE


def missing_postgres_database(password: str = "") -> str:
    """A URL naming a database that does not exist on the test PostgreSQL server."""
    url = make_url(POSTGRES_URL).set(database=f"mantle_missing_{uuid.uuid4().hex[:8]}")
    if password:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def run_mantle(*args: str, cwd, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MANTLE_")}
    return subprocess.run(
        [MANTLE, *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", "COLUMNS": "300", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_upgrade_creates_a_private_sqlite_database(tmp_path):
    previous = os.umask(0o022)
    try:
        migrate.upgrade(f"sqlite:///{tmp_path / 'data' / 'mantle.db'}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    files = list((tmp_path / "data").iterdir())
    assert files and {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_commands_refuse_a_missing_sqlite_database_without_creating_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'mantle.db'}"
    with pytest.raises(ConfigurationError) as refused:
        migrate.open_current(url)
    assert str(tmp_path / "elsewhere" / "mantle.db") in refused.value.message
    assert "mantle db upgrade" in refused.value.message
    assert "MANTLE_DATA_DIR" in refused.value.message
    assert not (tmp_path / "elsewhere").exists()


def test_commands_refuse_a_database_that_is_not_migrated(tmp_path):
    (tmp_path / "mantle.db").touch()
    with pytest.raises(ConfigurationError, match="has no Mantle schema.*mantle db upgrade"):
        migrate.open_current(f"sqlite:///{tmp_path / 'mantle.db'}")


def test_open_current_returns_a_usable_database(migrated_url):
    db = migrate.open_current(migrated_url)
    try:
        db.ping()
    finally:
        db.dispose()


def test_missing_postgres_database_is_one_actionable_line():
    url = missing_postgres_database(password="hunter2-db-password")
    for attempt in (migrate.upgrade, migrate.open_current):
        with pytest.raises(ConfigurationError) as failed:
            attempt(url)
        message = failed.value.message
        assert "does not exist" in message and "createdb" in message
        assert make_url(url).database in message and "127.0.0.1:5432" in message
        assert "hunter2" not in message and "\n" not in message


def test_unreachable_postgres_server_says_so():
    with pytest.raises(ServiceUnavailableError, match="127.0.0.1:1.*server is running"):
        migrate.open_current("postgresql://postgres@127.0.0.1:1/mantle")


def test_users_create_outside_the_data_dir_refuses_and_creates_nothing(tmp_path):
    result = run_mantle(
        "users", "create", "ann@example.com", cwd=tmp_path, env={"MANTLE_NEW_PASSWORD": "x" * 12}
    )
    assert result.returncode == 1, result.stderr
    assert str(tmp_path / ".mantle" / "mantle.db") in result.stderr
    assert "mantle db upgrade" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_prints_one_line_for_a_missing_postgres_database(tmp_path):
    env = {"MANTLE_DATABASE__URL": missing_postgres_database()}
    result = run_mantle("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot connect to the PostgreSQL database")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
