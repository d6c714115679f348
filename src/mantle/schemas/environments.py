"""AWS environments as the API and SDK see them: create/update bodies, the public view (which
never carries a secret value), setup kits, doctor reports and provisioning plans."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from mantle.bucket_names import check_bucket_name
from mantle.schemas.accounts import SLUG_PATTERN

DEFAULT_CLI_PATH = "/miniconda/bin/aws"
DEFAULT_LOG_GROUP = "/aws/batch/job"
DEFAULT_HEAD_IMAGE = "nextflow/nextflow:24.10.4"

REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
ACCOUNT = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
QUEUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
LOG_GROUP = re.compile(r"^[\w#./-]{1,512}$")
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}$")
# Nextflow mounts the CLI's whole prefix into task containers: it must be a self-contained
# install (conda), reached as <prefix>/bin/aws. Shell- and config-safe characters only.
CLI_PATH = re.compile(r"^/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/bin/aws$")
PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9!_.*'()=+,@-]+$")


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"not a valid {what}")
    return value


def normalize_prefix(value: str) -> str:
    """`/runs/mantle/` -> `runs/mantle`; refuses `..`, empty segments and odd characters."""
    value = value.strip("/")
    if not value:
        return ""
    if len(value) > 512:
        raise ValueError("a prefix is at most 512 characters")
    for segment in value.split("/"):
        if segment in ("", ".", "..") or not PREFIX_SEGMENT.fullmatch(segment):
            raise ValueError(f"prefix segment {segment!r} is not allowed")
    return value


class CredentialKind(StrEnum):
    role = "role"  # assume a role in the customer's account, with the tenant's external id
    keys = "keys"  # a customer IAM user's access key
    server = "server"  # the server's own default credential chain (single-tenant hosting)


class RoleCredentials(BaseModel):
    kind: Literal["role"] = "role"
    role_arn: str = Field(description="The role Mantle assumes (trust policy in the setup kit).")

    @field_validator("role_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        return _check(ROLE_ARN, value, "IAM role ARN (arn:aws:iam::123456789012:role/name)")


class KeyCredentials(BaseModel):
    kind: Literal["keys"] = "keys"
    access_key_id: str = Field(repr=False)
    secret_access_key: SecretStr = Field(min_length=16, max_length=256)

    @field_validator("access_key_id")
    @classmethod
    def _key_id(cls, value: str) -> str:
        return _check(ACCESS_KEY_ID, value, "access key id")


class ServerCredentials(BaseModel):
    kind: Literal["server"] = "server"


Credentials = Annotated[
    RoleCredentials | KeyCredentials | ServerCredentials, Field(discriminator="kind")
]


class ReadBucketPublic(BaseModel):
    """A read bucket as stored and shown: not checked again, so an entry saved under older,
    looser rules can still be read (and corrected)."""

    bucket: str
    prefix: str = ""


class ReadBucket(ReadBucketPublic):
    """A read bucket as entered: a valid S3 bucket name and a safe prefix."""

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return normalize_prefix(value)


class _EnvironmentFields(BaseModel):
    """Field rules shared by create and update (update makes every field optional)."""

    @field_validator("region", check_fields=False)
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return value if value is None else _check(REGION, value, "AWS region (e.g. eu-west-1)")

    @field_validator("account_id", check_fields=False)
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return value if value is None else _check(ACCOUNT, value, "12-digit AWS account id")

    @field_validator("write_bucket", check_fields=False)
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        return value if value is None else check_bucket_name(value)

    @field_validator("write_prefix", check_fields=False)
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        return value if value is None else normalize_prefix(value)

    @field_validator("head_queue", "compute_queue", check_fields=False)
    @classmethod
    def _queue(cls, value: str | None) -> str | None:
        return value if value is None else _check(QUEUE, value, "Batch job queue name")

    @field_validator("head_image", check_fields=False)
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        return value if value is None else _check(IMAGE, value, "container image")

    @field_validator("cli_path", check_fields=False)
    @classmethod
    def _cli(cls, value: str | None) -> str | None:
        return value if value is None else _check(CLI_PATH, value, "CLI path (<prefix>/bin/aws)")

    @field_validator("log_group", check_fields=False)
    @classmethod
    def _log_group(cls, value: str | None) -> str | None:
        return value if value is None else _check(LOG_GROUP, value, "CloudWatch log group")


class EnvironmentCreate(_EnvironmentFields):
    name: str = Field(pattern=SLUG_PATTERN, description="e.g. `prod`: lowercase, digits, dashes")
    region: str
    account_id: str | None = Field(
        default=None, description="The AWS account; taken from role_arn when that is given."
    )
    is_default: bool = False
    credentials: Credentials
    write_bucket: str
    write_prefix: str = ""
    read_buckets: list[ReadBucket] = Field(default_factory=list, max_length=100)
    head_queue: str = Field(description="Batch queue of the Nextflow head job.")
    compute_queue: str | None = Field(default=None, description="Task queue; default head_queue")
    head_image: str = DEFAULT_HEAD_IMAGE
    head_vcpus: int = Field(default=2, ge=1, le=256)
    head_memory_mib: int = Field(default=4096, ge=512, le=2_000_000)
    cli_path: str = DEFAULT_CLI_PATH
    nextflow_config: str = Field(default="", max_length=65536)
    log_group: str = DEFAULT_LOG_GROUP
    use_ecr: bool = False

    @model_validator(mode="after")
    def _account_and_queues(self) -> EnvironmentCreate:
        self.account_id = resolve_account(self.credentials, self.account_id)
        self.compute_queue = self.compute_queue or self.head_queue
        return self


class EnvironmentUpdate(_EnvironmentFields):
    """Only the fields sent change. `credentials`, when sent, replace the old ones whole."""

    region: str | None = None
    account_id: str | None = None
    is_default: Literal[True] | None = Field(
        default=None, description="Make this the default (unset by choosing another)."
    )
    credentials: Credentials | None = None
    write_bucket: str | None = None
    write_prefix: str | None = None
    read_buckets: list[ReadBucket] | None = Field(default=None, max_length=100)
    head_queue: str | None = None
    compute_queue: str | None = None
    head_image: str | None = None
    head_vcpus: int | None = Field(default=None, ge=1, le=256)
    head_memory_mib: int | None = Field(default=None, ge=512, le=2_000_000)
    cli_path: str | None = None
    nextflow_config: str | None = Field(default=None, max_length=65536)
    log_group: str | None = None
    use_ecr: bool | None = None


def resolve_account(credentials: BaseModel, account_id: str | None) -> str:
    """The account of an environment: the role ARN's, which must agree with `account_id`."""
    role_account = None
    if isinstance(credentials, RoleCredentials):
        role_account = ROLE_ARN.fullmatch(credentials.role_arn).group(1)
    if role_account and account_id and role_account != account_id:
        raise ValueError(f"account_id {account_id} differs from the role's account {role_account}")
    account = account_id or role_account
    if not account:
        raise ValueError("account_id is required (the 12-digit AWS account) unless role_arn has it")
    return account


class CredentialsPublic(BaseModel):
    kind: CredentialKind
    role_arn: str | None = None
    external_id: str | None = Field(
        default=None, description="What the role's trust policy must require (role kind)."
    )
    access_key_id_last4: str | None = None
    has_secret_key: bool = False


class EnvironmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    region: str
    account_id: str
    is_default: bool
    credentials: CredentialsPublic
    write_bucket: str
    write_prefix: str
    read_buckets: list[ReadBucketPublic]
    head_queue: str
    compute_queue: str
    head_image: str
    head_vcpus: int
    head_memory_mib: int
    cli_path: str
    nextflow_config: str
    log_group: str
    use_ecr: bool
    created_at: datetime
    updated_at: datetime

    @property
    def queues(self) -> list[str]:
        return list(dict.fromkeys([self.head_queue, self.compute_queue]))


class TenantAwsPublic(BaseModel):
    external_id: str = Field(description="Generated once per tenant; role trust policies need it")
    platform_principal_arn: str | None = Field(
        default=None, description="The server's AWS identity that assumes customers' roles."
    )


class SetupKit(BaseModel):
    environment: str
    files: dict[str, str] = Field(description="File name -> content; write them to a folder.")


class CheckStatus(StrEnum):
    passed = "pass"
    warn = "warn"
    fail = "fail"


class CheckResult(BaseModel):
    name: str
    status: CheckStatus
    message: str
    fix: str = ""
    retryable: bool = False


class DoctorReport(BaseModel):
    environment: str
    ok: bool = Field(description="True when no check failed (warnings allowed).")
    checks: list[CheckResult]


SubnetId = Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,32}$")]
SecurityGroupId = Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,32}$")]


class ProvisionRequest(BaseModel):
    dry_run: bool = False
    subnet_ids: list[SubnetId] = Field(
        default_factory=list, max_length=16, description="Default: the default VPC's subnets."
    )
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list, max_length=5, description="Default: the default VPC's group."
    )
    max_vcpus: int | None = Field(
        default=None, ge=1, le=100_000, description="Default: keep the current one (256 new)."
    )
    docker_volume_gib: int | None = Field(
        default=None,
        ge=20,
        le=16_384,
        description="Each host's Docker volume. Default: keep the current one (500 new).",
    )


class ProvisionAction(BaseModel):
    resource: str
    name: str
    action: Literal["create", "update", "replace", "none"] = Field(
        description="`replace`: only a new resource can take the change; nothing was done."
    )
    detail: str = ""


class ProvisionReport(BaseModel):
    environment: str
    dry_run: bool
    changed: bool
    actions: list[ProvisionAction]
