"""Mantle's settings: one pydantic-settings tree, read from `MANTLE_*` environment variables.

Built once at start-up (`Settings()` or `load_settings()`) and passed down; nothing in Mantle
reads the environment at import time. Nested groups use `__`, e.g. `MANTLE_DATABASE__URL`.
The defaults are the embedded deployment: SQLite and a local object store under `./.mantle/`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mantle.errors import ConfigurationError

DEV_SECRET_KEY = "mantle-development-secret-key-change-me"
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


class AuthSettings(BaseModel):
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)


class AwsSettings(BaseModel):
    """How the server reaches customers' AWS accounts (see `mantle.cloud.aws`)."""

    endpoint_url: str | None = Field(
        default=None,
        description="Send every AWS call of tenant environments (STS, S3, Batch, Logs, IAM, "
        "EC2, ECR) to this endpoint instead of AWS: for tests (moto) and S3-compatible setups.",
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


class WorkerSettings(BaseModel):
    """Background work (imports, later run monitoring)."""

    embedded: bool = Field(
        default=True,
        description="Run a worker thread inside the server. Production turns this off and runs "
        "`mantle worker` processes instead (as many as wanted).",
    )
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    lease_seconds: int = Field(default=60, ge=5, le=3600)


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

    def check_safe(self) -> None:
        """Refuse to run in production with unsafe values. Called by the server at start-up."""
        if self.env is not Environment.prod:
            return
        key = self.secret_key.get_secret_value()
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise ConfigurationError(
                "MANTLE_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
