"""The one boto3 session factory. Every AWS client Mantle makes comes from `make_session`.

Three ways in, from `AwsCredentials`: static keys (with an optional session token), a role to
assume through STS (with an external id, the usual pattern for a platform acting in a
customer's account) on top of static keys or the default chain, or the default chain alone
(environment, profile, instance/task role). Assumed-role credentials refresh themselves
before they expire. `client_config` gives the retry policy every client uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from mantle.errors import AuthenticationError

# AWS's own defaults: STS needs some region when none is configured anywhere.
_FALLBACK_STS_REGION = "us-east-1"
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


class AwsCredentials(BaseModel):
    """How Mantle authenticates to AWS. Leave everything empty for the default chain."""

    model_config = ConfigDict(frozen=True)

    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    role_arn: str | None = Field(default=None, description="Role to assume through STS.")
    external_id: str | None = Field(default=None, description="External id the role requires.")
    role_session_name: str = "mantle"
    role_duration_seconds: int = Field(default=3600, ge=900, le=43200)

    @field_validator("role_session_name")
    @classmethod
    def _session_name_allowed(cls, value: str) -> str:
        if not _SESSION_NAME.fullmatch(value):
            raise ValueError("role session name: 2-64 characters of letters, digits and +=,.@-_")
        return value

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> AwsCredentials:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("set both access_key_id and secret_access_key, or neither")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("a session token needs access_key_id and secret_access_key")
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("an external id is only used with role_arn")
        return self

    @property
    def kind(self) -> Literal["assume_role", "static", "default_chain"]:
        if self.role_arn:
            return "assume_role"
        return "static" if self.access_key_id else "default_chain"


def client_config(**overrides: Any) -> Config:
    """The botocore Config for every client: adaptive retries (client-side rate limiting plus
    backoff on throttling and 5xx), plus any client-specific options."""
    base = Config(retries={"mode": "adaptive", "max_attempts": 10})
    return base.merge(Config(**overrides)) if overrides else base


def make_session(
    creds: AwsCredentials | None = None,
    region: str | None = None,
    *,
    sts_endpoint_url: str | None = None,
) -> boto3.Session:
    """A boto3 session for `creds` in `region`. With a role, no STS call happens until the
    first client needs credentials, and they are renewed before they expire."""
    creds = creds or AwsCredentials()
    base = _base_session(creds, region)
    if not creds.role_arn:
        return base
    sts_region = region or base.region_name or _FALLBACK_STS_REGION
    sts = base.client(
        "sts", region_name=sts_region, endpoint_url=sts_endpoint_url, config=client_config()
    )
    return _refreshing_session(assume_role_fetcher(sts, creds), region)


def _base_session(creds: AwsCredentials, region: str | None) -> boto3.Session:
    if creds.access_key_id is None or creds.secret_access_key is None:
        return boto3.Session(region_name=region)
    token = creds.session_token.get_secret_value() if creds.session_token else None
    return boto3.Session(
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key.get_secret_value(),
        aws_session_token=token,
        region_name=region,
    )


def assume_role_fetcher(sts_client: Any, creds: AwsCredentials) -> Callable[[], dict[str, str]]:
    """A function that assumes `creds.role_arn` and returns credentials in the shape botocore's
    refreshable credentials expect."""

    def fetch() -> dict[str, str]:
        request = {
            "RoleArn": creds.role_arn,
            "RoleSessionName": creds.role_session_name,
            "DurationSeconds": creds.role_duration_seconds,
        }
        if creds.external_id:
            request["ExternalId"] = creds.external_id
        try:
            issued = sts_client.assume_role(**request)["Credentials"]
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "error")
            raise AuthenticationError(
                f"could not assume role {creds.role_arn}: STS answered {code}; check the "
                "role's trust policy and external id"
            ) from e
        except BotoCoreError as e:
            raise AuthenticationError(
                f"could not assume role {creds.role_arn}: {type(e).__name__}"
            ) from e
        expiry = issued["Expiration"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
        }

    return fetch


class _AssumedRoleProvider(CredentialProvider):
    METHOD = "mantle-assume-role"
    CANONICAL_NAME = "custom-mantle-assume-role"

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


def _refreshing_session(fetch: Callable[[], dict[str, str]], region: str | None) -> boto3.Session:
    # The only credential source of this session is the role: it must never fall back to
    # whatever the environment holds.
    core = botocore.session.get_session()
    resolver = CredentialResolver([_AssumedRoleProvider(fetch)])
    core.register_component("credential_provider", resolver)
    return boto3.Session(botocore_session=core, region_name=region)
