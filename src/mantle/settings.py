"""Mantle's settings: one pydantic-settings tree, read from `MANTLE_*` environment variables.

Built once at start-up by `load_settings()` and passed down; nothing in Mantle reads the
environment at import time. Nested groups use `__`, e.g. `MANTLE_DATABASE__URL`.
The defaults are the embedded deployment: SQLite and a local object store under `./.mantle/`,
and a secret key generated into that folder on first start.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mantle.bucket_names import check_bucket_name
from mantle.errors import ConfigurationError
from mantle.private_files import write_private_file

logger = logging.getLogger(__name__)

# The default of `Settings()` built directly (tests, embedding). `load_settings` replaces it
# with MANTLE_SECRET_KEY or the data directory's generated key; the server refuses it on
# anything but a loopback address.
DEV_SECRET_KEY = "mantle-development-secret-key-change-me"
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"
DEFAULT_DATA_DIR = Path(".mantle")


class Environment(StrEnum):
    dev = "dev"
    prod = "prod"


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file in the data directory.",
    )
    echo: bool = False


class StorageSettings(BaseModel):
    root: str = Field(
        default="",
        description="Object store root URI (file:///path or s3://bucket/prefix); empty means "
        "a local folder in the data directory.",
    )
    s3_region: str | None = None
    s3_endpoint_url: str | None = None


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # JSON and form bodies; data goes through uploads, whose part route has its own limit.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (`10.0.0.5`, `10.0.0.0/8`) of reverse proxies whose "
        "`X-Forwarded-For` header names the real client. Empty: the header is ignored.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as e:
                raise ValueError(f"{entry!r} is not an IP address or network") from e
        return value


# OWASP's argon2id minimums trade memory for passes (m=19 MiB t=2, m=12 MiB t=3, m=7 MiB
# t=5): below this much memory, or this memory x passes, production refuses to start.
MIN_HASH_MEMORY_KIB = 7168
MIN_HASH_WORK_KIB = 7168 * 5


class PasswordHashSettings(BaseModel):
    """argon2id cost. The defaults are argon2-cffi's own (RFC 9106 low-memory profile), written
    out so that reading settings does not load argon2. Hashes record their parameters, so
    changing these keeps old passwords working (they are rehashed at the next login)."""

    time_cost: int = Field(default=3, ge=1, le=100, description="Passes over memory.")
    memory_cost: int = Field(default=65536, ge=8, le=4 * 1024 * 1024, description="KiB.")
    parallelism: int = Field(default=4, ge=1, le=64, description="Lanes (threads).")

    @model_validator(mode="after")
    def _enough_memory_per_lane(self) -> PasswordHashSettings:
        if self.memory_cost < 8 * self.parallelism:
            raise ValueError("memory_cost (KiB) must be at least 8 x parallelism")
        return self

    @property
    def is_weak(self) -> bool:
        return (
            self.memory_cost < MIN_HASH_MEMORY_KIB
            or self.memory_cost * self.time_cost < MIN_HASH_WORK_KIB
        )


class AuthSettings(BaseModel):
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords one address may try on one account."
    )
    login_client_max_failures: int = Field(
        default=20, ge=1, description="Wrong passwords one address may try on all accounts."
    )
    login_account_max_failures: int = Field(
        default=20, ge=1, description="Wrong passwords one account may get from all addresses."
    )
    login_window_seconds: int = Field(default=900, ge=1)
    token_max_days: int = Field(
        default=366, ge=1, le=3660, description="Longest lifetime an API token may be given."
    )
    invitation_days: int = Field(default=7, ge=1, le=90)
    password_hash: PasswordHashSettings = PasswordHashSettings()


class AwsSettings(BaseModel):
    """How the server reaches customers' AWS accounts (see `mantle.cloud.aws`)."""

    endpoint_url: str | None = Field(
        default=None,
        description="Send every AWS call of tenant environments (STS, S3, Batch, Logs, IAM, "
        "EC2, ECR) to this endpoint instead of AWS: for tests (moto) and S3-compatible setups.",
    )
    endpoint_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Per-service endpoints that win over endpoint_url, given as JSON, e.g. "
        '{"batch": "http://127.0.0.1:9000"}: tests send Batch to the project\'s emulator.',
    )
    platform_principal_arn: str = Field(
        default="",
        description="The server's own AWS identity (role or user ARN): the principal that "
        "customers' role trust policies name. Empty: the setup kit asks for it.",
    )
    allow_server_credentials: bool = Field(
        default=False,
        description="Let environments use the server's own credential chain. Only for "
        "single-tenant self-hosting: every tenant admin could otherwise act as the server.",
    )


class CatalogSettings(BaseModel):
    read_buckets: list[str] = Field(
        default_factory=list,
        description="Buckets (or bucket/prefix, or full s3:// or file:// URIs) whose objects "
        'datasets may reference in place, e.g. `["seq-runs", "s3://lab/raw/"]`.',
    )

    @field_validator("read_buckets")
    @classmethod
    def _bucket_names(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            location = entry.strip().removeprefix("s3://")
            if "://" not in location:  # an S3 entry; file:// folders have no bucket
                check_bucket_name(location.split("/", 1)[0])
        return entries


class WorkerSettings(BaseModel):
    """Background work (imports, later run monitoring)."""

    embedded: bool = Field(
        default=True,
        description="Run worker threads inside the server. Production turns this off and runs "
        "`mantle worker` processes instead (as many as wanted).",
    )
    threads: int = Field(
        default=2, ge=1, le=64, description="Jobs one worker (or the server) runs at once."
    )
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_seconds: int = Field(default=60, ge=5, le=3600)


class PipelineSettings(BaseModel):
    """The pipeline registry's git access (repositories are cached under data_dir/git-cache)."""

    allow_local_repositories: bool | None = Field(
        default=None,
        description="Accept a path or file:// URL on the server as a pipeline repository (handy "
        "on a laptop). Unset: allowed in dev, refused in prod, where tenant members must not "
        "read the server's own files; paths inside data_dir are refused either way.",
    )
    git_timeout_seconds: float = Field(default=120, gt=0, le=3600)


class RunsSettings(BaseModel):
    """Pipeline runs: how the monitor follows them and what their event endpoint accepts."""

    monitor_interval_seconds: float = Field(
        default=5.0, gt=0, le=300,
        description="How often the run monitor looks at a young run (older runs: less often).",
    )  # fmt: skip
    monitor_max_interval_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="The longest wait between two looks at a run."
    )
    monitor_batch_size: int = Field(
        default=5000, ge=1, le=20_000,
        description="Runs one monitor cycle claims at most. A cycle that holds every due run "
        "polls each executor group in the fewest calls (Batch: ceil(runs/100) per group).",
    )  # fmt: skip
    monitor_lease_seconds: int = Field(
        default=60, ge=5, le=3600, description="How long a worker holds the runs it claimed."
    )
    monitor_trace_seconds: float = Field(
        default=30.0, ge=0, le=3600,
        description="A running run's trace.tsv is read at most this often (and only when it "
        "changed); weblog events keep the task table live in between.",
    )  # fmt: skip
    monitor_failures_before_failing: int = Field(
        default=3, ge=1, le=100,
        description="Cycles in a row an executor may refuse to report (permanent errors such "
        "as revoked credentials) before the runs it follows are failed with its message.",
    )  # fmt: skip
    events_max_body_bytes: int = Field(
        default=512 * 1024, ge=1024, description="Largest weblog event a run's endpoint takes."
    )


class BootstrapSettings(BaseModel):
    """The tenant and admin created on first start when the database has no users."""

    tenant: str = "default"
    admin_email: str = "admin@example.com"
    admin_password: SecretStr | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MANTLE_", env_nested_delimiter="__", extra="ignore"
    )

    env: Environment = Environment.dev
    data_dir: Path = DEFAULT_DATA_DIR
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    public_url: str = Field(default="", description="Base URL users reach the server at.")
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    bootstrap: BootstrapSettings = BootstrapSettings()
    catalog: CatalogSettings = CatalogSettings()
    aws: AwsSettings = AwsSettings()
    worker: WorkerSettings = WorkerSettings()
    pipelines: PipelineSettings = PipelineSettings()
    runs: RunsSettings = RunsSettings()

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database.url:
            self.database.url = f"sqlite:///{(self.data_dir / 'mantle.db').resolve()}"
        if not self.storage.root:
            self.storage.root = (self.data_dir / "objects").resolve().as_uri()
        if not self.public_url:
            self.public_url = f"http://{self.server.host}:{self.server.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def allow_local_repositories(self) -> bool:
        """Whether server paths may be pipeline repositories: as set, else only in dev."""
        allowed = self.pipelines.allow_local_repositories
        return self.env is Environment.dev if allowed is None else allowed

    @property
    def secret_key_file(self) -> Path:
        """Where the generated secret key lives when MANTLE_SECRET_KEY is not set."""
        return self.data_dir / SECRET_KEY_FILE

    def check_safe(self) -> None:
        """Refuse unsafe values: a weak secret key in production or on an address other
        machines can reach; cheap password hashing in production. Called by the server at
        start-up."""
        if self.env is Environment.prod and self.auth.password_hash.is_weak:
            raise ConfigurationError(
                "MANTLE_AUTH__PASSWORD_HASH__* is too cheap for production: use at least "
                f"memory_cost={MIN_HASH_MEMORY_KIB} (KiB) and memory_cost x time_cost >= "
                f"{MIN_HASH_WORK_KIB}, or leave them unset for the secure defaults"
            )
        key = self.secret_key.get_secret_value()
        if key and key != DEV_SECRET_KEY and len(key) >= MIN_SECRET_KEY_LENGTH:
            return
        random_value = (
            "a random value of at least 32 characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
        if self.env is Environment.prod:
            # Not the generated key: workers on other machines must share the server's key.
            raise ConfigurationError(
                f"MANTLE_SECRET_KEY must be set to {random_value} in production"
            )
        if not is_loopback(self.server.host):
            raise ConfigurationError(
                f"refusing to listen on {self.server.host} with the development secret key or "
                "one shorter than 32 characters (anyone could forge sessions and signed URLs): "
                f"unset MANTLE_SECRET_KEY to use the key generated into {self.secret_key_file}, "
                f"or set it to {random_value}"
            )


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (`0.0.0.0` and `::` are every address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any address


def load_settings(*, create_secret_key: bool = False, **overrides) -> Settings:
    """The settings of a Mantle process: MANTLE_* variables (or `overrides`), with the secret
    key resolved once. Without MANTLE_SECRET_KEY (outside production) it is the key in
    `<data dir>/secret_key`: read if the file is there, else generated (0600) when
    `create_secret_key` is set, by the processes that sign and encrypt (server, workers,
    `mantle aws reencrypt`). A server and its workers on one machine thus share one key that
    survives restarts, as stored AWS secrets need."""
    settings = Settings(**overrides)
    explicit = "secret_key" in settings.model_fields_set
    if (explicit and settings.secret_key.get_secret_value()) or settings.env is Environment.prod:
        return settings
    key = _key_from_file(settings.secret_key_file.resolve(), create=create_secret_key)
    if key is not None:
        settings.secret_key = SecretStr(key)
    return settings


def _key_from_file(path: Path, *, create: bool) -> str | None:
    generated = False
    if create and not path.exists():
        # Linked into place: when the server and a worker start together, one key wins.
        generated = write_private_file(path, secrets.token_urlsafe(48) + "\n", replace=False)
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigurationError(f"cannot read the secret key file {path}: {e.strerror}") from e
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"{path} holds no usable secret key (fewer than {MIN_SECRET_KEY_LENGTH} characters): "
            "restore it from a backup, or set MANTLE_SECRET_KEY"
        )
    if generated:
        logger.info("secret key: generated into %s (keep it: stored AWS secrets need it)", path)
    else:
        logger.info("secret key: read from %s", path)
    if path.stat().st_mode & 0o077:
        logger.warning("secret key: %s can be read by other users; chmod 600 it", path)
    return key
