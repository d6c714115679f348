"""Environment schemas: what a valid environment is, and that secrets stay out of repr."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mantle.schemas.environments import EnvironmentCreate, EnvironmentUpdate, normalize_prefix
from tests.aws_env.conftest import KEY_ID, SECRET

BASE = {
    "name": "prod",
    "region": "eu-west-1",
    "account_id": "123456789012",
    "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
    "write_bucket": "acme-mantle",
    "head_queue": "head",
}
ROLE = "arn:aws:iam::210987654321:role/mantle/platform"


def test_defaults_follow_the_guide() -> None:
    env = EnvironmentCreate(**BASE)
    assert env.cli_path == "/miniconda/bin/aws" and env.log_group == "/aws/batch/job"
    assert env.compute_queue == "head" and env.use_ecr is False


def test_the_account_comes_from_the_role_and_must_agree() -> None:
    role = {**BASE, "account_id": None, "credentials": {"kind": "role", "role_arn": ROLE}}
    assert EnvironmentCreate(**role).account_id == "210987654321"
    with pytest.raises(ValidationError, match="differs"):
        EnvironmentCreate(**{**role, "account_id": "123456789012"})
    with pytest.raises(ValidationError, match="account_id is required"):
        EnvironmentCreate(**{**BASE, "account_id": None})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("region", "europe"),
        ("write_bucket", "Not_A_Bucket"),
        ("write_bucket", "192.168.1.1"),
        ("write_bucket", "a..b"),
        ("read_buckets", [{"bucket": "xn--raw"}]),
        ("read_buckets", [{"bucket": "raw-s3alias"}]),
        ("write_prefix", "a/../b"),
        ("write_prefix", "a//b"),
        ("head_queue", "has space"),
        ("cli_path", "/usr/bin/aws; rm -rf /"),
        ("cli_path", "aws"),
        ("log_group", "bad group!"),
        ("name", "Prod"),
        ("head_vcpus", 0),
    ],
)
def test_bad_values_are_refused(field, value) -> None:
    with pytest.raises(ValidationError):
        EnvironmentCreate(**{**BASE, field: value})


def test_prefixes_are_normalized() -> None:
    assert normalize_prefix("/runs/mantle/") == "runs/mantle"
    assert (
        EnvironmentCreate(**{**BASE, "read_buckets": [{"bucket": "raw-data", "prefix": "/x/"}]})
        .read_buckets[0]
        .prefix
        == "x"
    )


def test_secrets_stay_out_of_repr_and_errors() -> None:
    env = EnvironmentCreate(**BASE)
    for text in (repr(env), str(env), repr(env.credentials), repr(EnvironmentUpdate(**BASE))):
        assert SECRET not in text and KEY_ID not in text
    with pytest.raises(ValidationError) as caught:
        EnvironmentCreate(**{**BASE, "region": "nowhere"})
    assert SECRET not in str(caught.value.errors(include_input=False))
