"""Per-service AWS endpoints: Batch can go to the emulator while everything else goes to
moto (or AWS), from code (`connect(endpoints=...)`) and from settings
(`MANTLE_AWS__ENDPOINT_URLS`), down to the environments the services connect with."""

from __future__ import annotations

from mantle.aws.connect import connect
from mantle.aws.session import AwsCredentials
from mantle.cloud.aws.environments import EnvironmentInUse
from mantle.settings import Settings
from tests.aws_env.conftest import env_public

KEYS = AwsCredentials(access_key_id="AKIAENDPOINTS", secret_access_key="secret")


def test_a_service_endpoint_wins_over_the_common_one():
    conn = connect(
        KEYS,
        "us-east-1",
        endpoint_url="http://127.0.0.1:5000",
        endpoints={"batch": "http://127.0.0.1:7000"},
    )
    assert conn.client("batch").meta.endpoint_url == "http://127.0.0.1:7000"
    assert conn.client("logs").meta.endpoint_url == "http://127.0.0.1:5000"
    assert conn.client("s3").meta.config.s3 == {"addressing_style": "path"}


def test_only_service_endpoints():
    conn = connect(KEYS, "eu-west-1", endpoints={"logs": "http://127.0.0.1:7001"})
    assert conn.client("logs").meta.endpoint_url == "http://127.0.0.1:7001"
    assert conn.client("batch").meta.endpoint_url == "https://batch.eu-west-1.amazonaws.com"


def test_settings_take_service_endpoints_as_json(monkeypatch, tmp_path):
    monkeypatch.setenv("MANTLE_AWS__ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("MANTLE_AWS__ENDPOINT_URLS", '{"batch": "http://127.0.0.1:7000"}')
    aws = Settings(data_dir=tmp_path).aws
    assert aws.endpoint_urls == {"batch": "http://127.0.0.1:7000"}
    conn = EnvironmentInUse(tenant="acme", public=env_public(), credentials=KEYS).connect(aws)
    assert conn.client("batch").meta.endpoint_url == "http://127.0.0.1:7000"
    assert conn.client("sts").meta.endpoint_url == "http://127.0.0.1:5000"
