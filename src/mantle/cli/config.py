"""Where the CLI keeps the server URL and API token: `credentials.json` in the user's config
directory, readable by the user only (0600). `MANTLE_URL` / `MANTLE_TOKEN` override it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from mantle.errors import AuthenticationError


@dataclass
class Credentials:
    url: str
    token: str
    tenant: str | None = None


def config_dir() -> Path:
    override = os.environ.get("MANTLE_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs  # ~10 ms: only commands that read the login pay for it

    return Path(platformdirs.user_config_dir("mantle"))


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def save(credentials: Credentials) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    # Create with 0600 from the start: never a moment where the token is world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(credentials), f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load() -> Credentials:
    url, token = os.environ.get("MANTLE_URL"), os.environ.get("MANTLE_TOKEN")
    stored = _read()
    if url and token:
        return Credentials(url=url, token=token, tenant=os.environ.get("MANTLE_TENANT"))
    if stored is None:
        raise AuthenticationError(
            "not logged in: run `mantle login URL` (or set MANTLE_URL and MANTLE_TOKEN)"
        )
    return Credentials(
        url=url or stored.url,
        token=token or stored.token,
        tenant=os.environ.get("MANTLE_TENANT") or stored.tenant,
    )


def _read() -> Credentials | None:
    path = credentials_path()
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Credentials(**{k: data.get(k) for k in ("url", "token", "tenant")})


def forget() -> bool:
    path = credentials_path()
    if path.exists():
        path.unlink()
        return True
    return False
