"""The `mantle` CLI as a user runs it: a subprocess against a real server started by the test."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.live import MANTLE


def run_cli(config_dir: Path, *args: str, password: str | None = None, env: dict | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MANTLE_")}
    full_env.update(
        {"MANTLE_CONFIG_DIR": str(config_dir), "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    )
    if password is not None:
        full_env["MANTLE_PASSWORD"] = password
    return subprocess.run([MANTLE, *args], env=full_env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def cli(live_server, tmp_path):
    config_dir = tmp_path / "config"

    def run(*args: str, password: str | None = None, env: dict | None = None):
        return run_cli(config_dir, *args, password=password, env=env)

    run.config_dir = config_dir
    return run


def login(cli, live_server):
    result = cli(
        "login",
        live_server.url,
        "--email",
        live_server.admin_email,
        "--tenant",
        live_server.tenant,
        password=live_server.admin_password,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def admin_credentials(live_server, tmp_path_factory) -> Path:
    """The admin's credentials from one real `mantle login` (each `mantle` process costs a
    second of CPU): tests that only need to be logged in start from a copy of them."""
    config_dir = tmp_path_factory.mktemp("admin-config")
    result = run_cli(
        config_dir, "login", live_server.url, "--email", live_server.admin_email,
        "--tenant", live_server.tenant, password=live_server.admin_password,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return config_dir / "credentials.json"


@pytest.fixture
def logged_in(cli, admin_credentials):
    """`cli`, logged in as the first-start admin."""
    cli.config_dir.mkdir(mode=0o700)
    shutil.copy2(admin_credentials, cli.config_dir / "credentials.json")
    return cli


def test_first_start_prints_how_to_log_in(live_server):
    assert live_server.admin_email == "admin@example.com"
    assert len(live_server.admin_password) >= 16
    assert live_server.tenant == "default"
    assert f"{live_server.url}/login" in live_server.log()


def test_login_with_password_then_whoami(cli, live_server):
    result = login(cli, live_server)
    assert "logged in" in result.stdout and "mtk_" not in result.stdout
    path = cli.config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["token"].startswith("mtk_")
    me = cli("whoami", "--json")
    assert me.returncode == 0, me.stderr
    data = json.loads(me.stdout)
    assert data["user"]["email"] == live_server.admin_email
    assert data["tenant"]["slug"] == "default"
    human = cli("whoami")
    assert "admin@example.com" in human.stdout and "default" in human.stdout


@pytest.mark.usefixtures("logged_in")
def test_token_commands_round_trip(cli, live_server):
    created = cli(
        "tokens", "create", "ci-bot", "--scope", "read", "--expires-in-days", "30", "--json"
    )
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["scope"] == "read" and token["expires_at"]
    listed = json.loads(cli("tokens", "list", "--json").stdout)
    assert token["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)

    # The new token logs in on its own and sees its scope.
    other = cli(
        "login",
        live_server.url,
        "--token",
        token["token"],
        env={"MANTLE_CONFIG_DIR": str(cli.config_dir / "other")},
    )
    assert other.returncode == 0, other.stderr

    revoked = cli("tokens", "revoke", token["prefix"], "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"]
    refused = cli("whoami", env={"MANTLE_CONFIG_DIR": str(cli.config_dir / "other")})
    assert refused.returncode == 3
    assert "revoked" in refused.stderr


@pytest.mark.usefixtures("logged_in")
def test_tenant_commands(cli, live_server):
    listed = json.loads(cli("tenants", "list", "--json").stdout)
    assert [t["slug"] for t in listed] == ["default"]
    members = json.loads(cli("tenants", "members", "--json").stdout)
    assert members[0]["role"] == "owner"
    table = cli("tenants", "members")
    assert "admin@example.com" in table.stdout and "owner" in table.stdout
    # The first-start admin is a server admin (it may create tenants and users).
    assert json.loads(cli("whoami", "--json").stdout)["user"]["is_superuser"] is True


def create_user_on_the_server(live_server, email: str, *flags: str) -> dict:
    env = {**live_server.env, "MANTLE_NEW_PASSWORD": f"{email}-password"}
    made = subprocess.run(
        [MANTLE, "users", "create", email, *flags, "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)


@pytest.mark.usefixtures("logged_in")
def test_server_admins_made_with_users_create_create_tenants(cli, live_server):
    assert create_user_on_the_server(live_server, "root@example.com", "--superuser")["is_superuser"]
    assert not create_user_on_the_server(live_server, "bob@example.com")["is_superuser"]
    for email in ("root@example.com", "bob@example.com"):
        token = json.loads(cli("tenants", "invite", email, "--json").stdout)["token"]
        own_config = {"MANTLE_CONFIG_DIR": str(cli.config_dir / email)}
        accept = ("tenants", "accept", token, "--url", live_server.url)
        joined = cli(*accept, password=f"{email}-password", env=own_config)
        assert joined.returncode == 0, joined.stderr
    bob = cli(
        "login", live_server.url, "--email", "bob@example.com", password="bob@example.com-password"
    )
    assert bob.returncode == 0, bob.stderr
    # Not a server admin: permission denied has its own exit code, and says how to get one.
    refused = cli("tenants", "create", "bobco")
    assert refused.returncode == 4 and "--superuser" in refused.stderr
    root = cli(
        "login",
        live_server.url,
        "--email",
        "root@example.com",
        password="root@example.com-password",
    )
    assert root.returncode == 0, root.stderr
    created = cli("tenants", "create", "newco", "--name", "New Co")
    assert created.returncode == 0, created.stderr
    assert "newco" in created.stdout and "--tenant newco" in created.stdout
    in_newco = cli(
        "login", live_server.url, "--email", "root@example.com", "--tenant", "newco",
        password="root@example.com-password",
    )  # fmt: skip
    assert in_newco.returncode == 0, in_newco.stderr
    me = json.loads(cli("whoami", "--json").stdout)
    assert me["tenant"]["slug"] == "newco" and me["tenant"]["role"] == "owner"


@pytest.mark.usefixtures("logged_in")
def test_invite_then_accept_by_signing_up(cli, live_server):
    invited = cli("tenants", "invite", "newbie@example.com", "--role", "viewer", "--json")
    assert invited.returncode == 0, invited.stderr
    token = json.loads(invited.stdout)["token"]
    pending = json.loads(cli("tenants", "invitations", "--json").stdout)
    assert [(i["email"], i["role"]) for i in pending] == [("newbie@example.com", "viewer")]
    # Logged in as someone else, the token is refused (permission denied).
    assert cli("tenants", "accept", token).returncode == 4

    newbie = {"MANTLE_CONFIG_DIR": str(cli.config_dir / "newbie")}
    accepted = cli(
        "tenants", "accept", token, "--url", live_server.url, password="newbie pw 1", env=newbie
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "logged in" in accepted.stdout
    me = json.loads(cli("whoami", "--json", env=newbie).stdout)
    assert me["user"]["email"] == "newbie@example.com" and me["tenant"]["role"] == "viewer"
    assert json.loads(cli("tenants", "invitations", "--json").stdout) == []


@pytest.mark.usefixtures("logged_in")
def test_revoked_invitation_cannot_be_accepted(cli, live_server):
    invited = json.loads(cli("tenants", "invite", "late@example.com", "--json").stdout)
    revoked = cli("tenants", "revoke-invitation", invited["id"])
    assert revoked.returncode == 0 and "late@example.com" in revoked.stdout
    late = {"MANTLE_CONFIG_DIR": str(cli.config_dir / "late")}
    accept = ("tenants", "accept", invited["token"], "--url", live_server.url)
    refused = cli(*accept, password="pw 12345", env=late)
    assert refused.returncode == 5 and "revoked" in refused.stderr


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("tokens", "revoke", "00000000-0000-0000-0000-000000000000"), 5),
        (("tokens", "create", "x", "--scope", "bogus"), 7),
        (("tenants", "show", "no-such-tenant"), 5),
        (("tenants", "accept", "mti_no-such-invitation"), 5),
        (("tokens", "create", "x", "--expires-in-days", "9999"), 7),
    ],
)
def test_exit_codes_scripts_can_rely_on(cli, live_server, args, code):
    result = cli(*args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error:")


def test_not_logged_in_wrong_password_and_unreachable(cli, live_server):
    assert cli("whoami").returncode == 3
    wrong = cli("login", live_server.url, "--email", live_server.admin_email, password="nope")
    assert wrong.returncode == 3 and "wrong email or password" in wrong.stderr
    dead = cli("whoami", env={"MANTLE_URL": "http://127.0.0.1:9", "MANTLE_TOKEN": "mtk_x"})
    assert dead.returncode == 9 and "cannot reach" in dead.stderr


def test_usage_error_exit_code(cli):
    assert cli("tokens", "create").returncode == 2


@pytest.mark.usefixtures("logged_in")
def test_server_log_never_contains_secrets(cli, live_server):
    token = json.loads((cli.config_dir / "credentials.json").read_text())["token"]
    log = live_server.log()
    assert token not in log
    # The generated password is in a private file; the server's output only names the file.
    assert live_server.admin_password and live_server.admin_password not in log


def test_version():
    from typer.testing import CliRunner

    from mantle import __version__
    from mantle.cli.main import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"mantle {__version__}\n"
