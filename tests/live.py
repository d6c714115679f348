"""A real `mantle server` process for end-to-end tests (CLI, SDK, browser): started the way
`make run` starts it (`mantle db upgrade`, then `mantle server`) on a free port with its own
data directory. The admin password is read from the file the first start writes it to (the
server's output, a log file here, only names the file)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MANTLE = str(Path(sys.executable).with_name("mantle"))
LIVE_SECRET_KEY = "live-test-secret-key-0123456789abcdefghij"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    admin_email: str = ""
    admin_password: str = ""
    tenant: str = ""
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text()


def start_live_server(
    data_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    secret_key: str | None = LIVE_SECRET_KEY,
    log_name: str = "server.log",
) -> LiveServer:
    """`secret_key=None` leaves MANTLE_SECRET_KEY unset: the server generates its own.

    The port is picked free, but another process of the suite may take it before the server
    binds it: then the server exits and it is started again on another port (up to 3 times)."""
    for attempt in range(3):
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k != "MANTLE_SECRET_KEY"},
            "MANTLE_DATA_DIR": str(data_dir),
            "MANTLE_SERVER__PORT": str(port),
            # argon2's cheapest parameters (as in conftest's settings): fast logins in tests.
            "MANTLE_AUTH__PASSWORD_HASH__TIME_COST": "1",
            "MANTLE_AUTH__PASSWORD_HASH__MEMORY_COST": "8",
            "MANTLE_AUTH__PASSWORD_HASH__PARALLELISM": "1",
            # Every test of a session signs in from 127.0.0.1 and some fail on purpose: the
            # per-address limit (20 failures over all accounts) would lock the rest out. The
            # per-account limits stay as they are (tests check them).
            "MANTLE_AUTH__LOGIN_CLIENT_MAX_FAILURES": "100000",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            **({"MANTLE_SECRET_KEY": secret_key} if secret_key else {}),
            **(extra_env or {}),
        }
        subprocess.run([MANTLE, "db", "upgrade"], env=env, check=True, capture_output=True)
        log_path = data_dir / log_name
        log = log_path.open("a" if attempt else "w")
        process = subprocess.Popen(
            [MANTLE, "server"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        server = LiveServer(f"http://127.0.0.1:{port}", data_dir, env, process, log_path)
        try:
            _wait_until_healthy(server)
        except PortTaken:
            continue
        _read_first_login(server)
        return server
    raise RuntimeError(f"mantle server found no free port in 3 tries:\n{server.log()}")


class PortTaken(RuntimeError):
    pass


def _wait_until_healthy(server: LiveServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    ours = f"Uvicorn running on {server.url}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            if "address already in use" in server.log():
                raise PortTaken(server.url)
            raise RuntimeError(f"mantle server exited:\n{server.log()}")
        try:
            # Healthy, and bound by this process (not another one that holds the port).
            healthy = httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
            if healthy and ours in server.log():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"mantle server did not become healthy:\n{server.log()}")


def _read_first_login(server: LiveServer) -> None:
    text = server.log()
    for key, attr in (("email", "admin_email"), ("tenant", "tenant")):
        match = re.search(rf"^\s+{key}\s+(\S+)\s*$", text, re.MULTILINE)
        if match:
            setattr(server, attr, match.group(1))
    password_file = re.search(r"^\s+password\s+in (\S+)", text, re.MULTILINE)
    if password_file:
        server.admin_password = Path(password_file.group(1)).read_text().strip()


def stop_live_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
