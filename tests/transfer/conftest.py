"""Transfer tests: the app's AWS calls for tenant environments go to the shared moto server."""

from __future__ import annotations

import pytest

from mantle.settings import Settings
from tests.aws import moto_server, unique_name  # noqa: F401
from tests.conftest import make_settings

KEY_ID = "AKIAMANTLEIMPORTS042"
SECRET = "imports-test-secret-key-0123456789"


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server) -> Settings:  # noqa: F811
    return make_settings(tmp_path, migrated_url, aws={"endpoint_url": moto_server.endpoint_url})


@pytest.fixture
def raw_bucket(moto_server):  # noqa: F811
    name = unique_name("raw")
    moto_server.client("s3").create_bucket(Bucket=name)
    return name


def make_environment(api, owner, read_buckets: list[dict], name: str = "prod") -> dict:
    body = {
        "name": name, "region": "us-east-1", "is_default": True, "account_id": "123456789012",
        "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
        "write_bucket": "mantle-write", "read_buckets": read_buckets, "head_queue": "head",
    }  # fmt: skip
    response = api.post("/api/v1/tenants/acme/environments", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()
