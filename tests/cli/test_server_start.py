"""`mantle server` on a default install (no MANTLE_SECRET_KEY): a secret key generated into the
data directory and reused on restart, private files, and first-start credentials that never
reach the server's log."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from rich.console import Console

from mantle.accounts.bootstrap import BootstrapResult
from mantle.cli import server as server_cli
from mantle.client import Client
from mantle.settings import Settings
from tests.live import start_live_server, stop_live_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_install_keeps_its_secrets_private_across_restarts(tmp_path):
    data_dir = tmp_path / "data"  # made by `mantle db upgrade`, as `make run` does
    first = start_live_server(data_dir, secret_key=None)
    try:
        log = first.log()
        key_file, password_file = data_dir / "secret_key", data_dir / "initial-admin-password"
        key = key_file.read_text().strip()
        assert len(key) >= 32 and key not in log
        assert f"secret key: generated into {key_file}" in log
        assert first.admin_password == password_file.read_text().strip()
        assert first.admin_password not in log and f"password  in {password_file}" in log
        assert mode(data_dir) == 0o700 and mode(data_dir / "objects") == 0o700
        assert {mode(p) for p in (key_file, password_file, data_dir / "mantle.db")} == {0o600}
        assert Client.login(first.url, first.admin_email, first.admin_password).token.startswith(
            "mtk_"
        )
    finally:
        stop_live_server(first)

    again = start_live_server(data_dir, secret_key=None, log_name="restart.log")
    try:
        log = again.log()
        assert key_file.read_text().strip() == key
        assert f"secret key: read from {key_file}" in log
        assert "First start" not in log
        assert Client.login(again.url, first.admin_email, first.admin_password).token.startswith(
            "mtk_"
        )
    finally:
        stop_live_server(again)


def banner(monkeypatch, *, show_password: bool, password_file: Path | None) -> str:
    console = Console(record=True, width=200)
    monkeypatch.setattr(server_cli, "out", console)
    created = BootstrapResult("admin@example.com", "default", password_file, "s3cret-pw")
    server_cli._print_first_login(Settings(), created, show_password=show_password)
    return console.export_text()


def test_first_start_banner_shows_the_password_on_a_terminal_only(monkeypatch, tmp_path):
    password_file = tmp_path / "initial-admin-password"
    on_terminal = banner(monkeypatch, show_password=True, password_file=password_file)
    assert re.search(r"password\s+s3cret-pw", on_terminal)
    to_a_log = banner(monkeypatch, show_password=False, password_file=password_file)
    assert "s3cret-pw" not in to_a_log and str(password_file) in to_a_log
    given = banner(monkeypatch, show_password=True, password_file=None)
    assert "s3cret-pw" not in given and "MANTLE_BOOTSTRAP__ADMIN_PASSWORD" in given
