"""The boto3 session factory (`mantle.aws.session`): static keys, the default chain and
assume-role with an external id, against moto's STS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.credentials import RefreshableCredentials
from botocore.stub import Stubber
from pydantic import ValidationError

from mantle.aws import session as aws_session
from mantle.aws.session import (
    AwsCredentials,
    assume_role_fetcher,
    client_config,
    make_session,
)
from mantle.errors import AuthenticationError
from tests.aws import REGION, MotoServer

ROLE_ARN = "arn:aws:iam::123456789012:role/mantle-platform"
SECRET = "wJalrXUtnFEMI-not-a-real-secret"


def static_creds(**extra) -> AwsCredentials:
    return AwsCredentials(access_key_id="AKIASTATIC", secret_access_key=SECRET, **extra)


def test_client_config_has_adaptive_retries() -> None:
    config = client_config()
    assert config.retries == {"mode": "adaptive", "max_attempts": 10}
    merged = client_config(signature_version="s3v4", s3={"addressing_style": "path"})
    assert merged.retries == {"mode": "adaptive", "max_attempts": 10}
    assert (merged.signature_version, merged.s3) == ("s3v4", {"addressing_style": "path"})


@pytest.mark.parametrize(
    "fields",
    [
        {"access_key_id": "AKIA"},
        {"secret_access_key": "x"},
        {"session_token": "t"},
        {"external_id": "e"},
        {"role_arn": ROLE_ARN, "role_session_name": "has spaces"},
        {"role_arn": ROLE_ARN, "role_duration_seconds": 60},
    ],
)
def test_inconsistent_credentials_are_refused(fields) -> None:
    with pytest.raises(ValidationError):
        AwsCredentials(**fields)


def test_kinds_and_secrets_stay_hidden() -> None:
    assert AwsCredentials().kind == "default_chain"
    assert static_creds().kind == "static"
    assert static_creds(role_arn=ROLE_ARN).kind == "assume_role"
    assert SECRET not in repr(static_creds(session_token="tok"))


def test_static_keys(moto_server: MotoServer) -> None:
    session = make_session(static_creds(session_token="tok"), "eu-west-1")
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("AKIASTATIC", SECRET, "tok")
    assert session.region_name == "eu-west-1"
    sts = session.client("sts", endpoint_url=moto_server.endpoint_url)
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_default_chain_reads_the_environment(moto_server: MotoServer) -> None:
    # The moto_server fixture puts fake keys in the environment.
    frozen = make_session(None, REGION).get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("testing", "testing")


def test_assume_role_through_sts(moto_server: MotoServer) -> None:
    creds = static_creds(role_arn=ROLE_ARN, external_id="ext-42", role_session_name="mantle-test")
    session = make_session(creds, REGION, sts_endpoint_url=moto_server.endpoint_url)
    sts = session.client("sts", endpoint_url=moto_server.endpoint_url)
    identity = sts.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/mantle-platform/mantle-test"

    credentials = session.get_credentials()
    assert isinstance(credentials, RefreshableCredentials)
    assert credentials.method == "mantle-assume-role"
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key != "AKIASTATIC" and frozen.token
    # The session must not fall back to the environment's keys.
    assert frozen.access_key != "testing"


def test_assumed_credentials_are_fetched_lazily_and_refreshed(monkeypatch) -> None:
    calls: list[datetime] = []
    lifetime = {"value": timedelta(hours=1)}

    def counting_fetcher(_sts, _creds):
        def fetch():
            calls.append(datetime.now(UTC))
            expiry = datetime.now(UTC) + lifetime["value"]
            return {
                "access_key": f"ASIA{len(calls)}",
                "secret_key": "s",
                "token": "t",
                "expiry_time": expiry.isoformat(),
            }

        return fetch

    monkeypatch.setattr(aws_session, "assume_role_fetcher", counting_fetcher)
    session = make_session(AwsCredentials(role_arn=ROLE_ARN), REGION)
    assert calls == []  # nothing fetched until a client needs credentials

    credentials = session.get_credentials()
    assert credentials.get_frozen_credentials().access_key == "ASIA1"
    assert credentials.get_frozen_credentials().access_key == "ASIA1"
    assert len(calls) == 1

    # Credentials that are about to expire are renewed on the next use.
    lifetime["value"] = timedelta(minutes=5)
    credentials._expiry_time = datetime.now(UTC) + timedelta(minutes=5)
    assert credentials.get_frozen_credentials().access_key == "ASIA2"
    assert len(calls) == 2


def test_fetcher_sends_the_external_id() -> None:
    sts = make_session(static_creds(), REGION).client("sts")
    creds = static_creds(role_arn=ROLE_ARN, external_id="ext-42", role_duration_seconds=900)
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    with Stubber(sts) as stub:
        stub.add_response(
            "assume_role",
            {
                "Credentials": {
                    "AccessKeyId": "ASIAXXXXXXXXXXXXXXXX",
                    "SecretAccessKey": "s" * 20,
                    "SessionToken": "token",
                    "Expiration": expiry,
                }
            },
            expected_params={
                "RoleArn": ROLE_ARN,
                "RoleSessionName": "mantle",
                "DurationSeconds": 900,
                "ExternalId": "ext-42",
            },
        )
        fetched = assume_role_fetcher(sts, creds)()
    assert fetched == {
        "access_key": "ASIAXXXXXXXXXXXXXXXX",
        "secret_key": "s" * 20,
        "token": "token",
        "expiry_time": expiry.isoformat(),
    }


def test_refused_assume_role_is_an_authentication_error() -> None:
    sts = make_session(static_creds(), REGION).client("sts")
    creds = static_creds(role_arn=ROLE_ARN, external_id="wrong")
    with Stubber(sts) as stub:
        stub.add_client_error(
            "assume_role",
            service_error_code="AccessDenied",
            service_message=f"not authorized {SECRET}",
            http_status_code=403,
        )
        with pytest.raises(AuthenticationError) as caught:
            assume_role_fetcher(sts, creds)()
    message = caught.value.message
    assert ROLE_ARN in message and "AccessDenied" in message and "external id" in message
    assert SECRET not in message
