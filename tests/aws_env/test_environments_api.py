"""Environments through the API (SQLite and PostgreSQL): tenant-scoped CRUD, admin-only
changes, one default, the per-tenant external id, and secrets that are encrypted at rest and
never come back out (responses, logs, the stored row, validation errors)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from mantle.db.models import SqlEnvironment
from tests.aws_env.conftest import ACCOUNT, KEY_ID, PRINCIPAL, SECRET

BASE = "/api/v1/tenants/acme/environments"


def body(name: str = "prod", **overrides) -> dict:
    fields = {
        "name": name,
        "region": "us-east-1",
        "account_id": ACCOUNT,
        "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
        "write_bucket": "acme-mantle",
        "write_prefix": "/mantle/",
        "read_buckets": [{"bucket": "acme-raw", "prefix": "runs"}],
        "head_queue": "head",
    }
    return {**fields, **overrides}


@pytest.fixture
def admin(factory):
    return factory.member("acme", "alice@example.com", "admin")


def test_create_list_show_update_delete(api, admin) -> None:
    created = api.post(BASE, json=body(), headers=admin.headers)
    assert created.status_code == 201, created.text
    env = created.json()
    assert env["write_prefix"] == "mantle" and env["compute_queue"] == "head"
    assert env["is_default"] is True and env["cli_path"] == "/miniconda/bin/aws"
    assert env["credentials"] == {
        "kind": "keys",
        "role_arn": None,
        "external_id": None,
        "access_key_id_last4": "EY42",
        "has_secret_key": True,
    }
    assert [e["name"] for e in api.get(BASE, headers=admin.headers).json()] == ["prod"]
    changed = api.patch(
        f"{BASE}/prod", json={"head_vcpus": 4, "use_ecr": True}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["head_vcpus"], changed.json()["use_ecr"]) == (4, True)
    assert changed.json()["credentials"]["has_secret_key"] is True  # untouched
    assert api.get(f"{BASE}/prod", headers=admin.headers).json()["head_vcpus"] == 4
    assert api.delete(f"{BASE}/prod", headers=admin.headers).status_code == 204
    assert api.get(f"{BASE}/prod", headers=admin.headers).status_code == 404


def test_names_are_unique_per_tenant(api, admin, factory) -> None:
    assert api.post(BASE, json=body(), headers=admin.headers).status_code == 201
    assert api.post(BASE, json=body(), headers=admin.headers).status_code == 409
    other = factory.member("beta", "bob@example.com", "owner")
    created = api.post("/api/v1/tenants/beta/environments", json=body(), headers=other.headers)
    assert created.status_code == 201


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_change_environments(api, admin, factory, role) -> None:
    assert api.post(BASE, json=body(), headers=admin.headers).status_code == 201
    user = factory.member("acme", f"{role}@example.com", role)
    assert api.get(BASE, headers=user.headers).status_code == 200
    assert api.get(f"{BASE}/prod/setup-kit", headers=user.headers).status_code == 200
    assert api.post(BASE, json=body("dev"), headers=user.headers).status_code == 403
    assert (
        api.patch(f"{BASE}/prod", json={"head_vcpus": 8}, headers=user.headers).status_code == 403
    )
    assert api.delete(f"{BASE}/prod", headers=user.headers).status_code == 403
    provision = api.post(f"{BASE}/prod/provision", json={"dry_run": True}, headers=user.headers)
    assert provision.status_code == 403
    if role == "viewer":  # the doctor acts in AWS like a run: members may, viewers may not
        assert api.post(f"{BASE}/prod/doctor", headers=user.headers).status_code == 403


def test_one_default_environment(api, admin) -> None:
    api.post(BASE, json=body("prod"), headers=admin.headers)
    api.post(BASE, json=body("dev"), headers=admin.headers)

    def defaults():
        return [e["name"] for e in api.get(BASE, headers=admin.headers).json() if e["is_default"]]

    assert defaults() == ["prod"]
    api.patch(f"{BASE}/dev", json={"is_default": True}, headers=admin.headers)
    assert defaults() == ["dev"]
    api.post(BASE, json=body("staging", is_default=True), headers=admin.headers)
    assert defaults() == ["staging"]
    api.delete(f"{BASE}/staging", headers=admin.headers)
    assert len(defaults()) == 1


def test_external_id_is_generated_once_per_tenant(api, admin, factory) -> None:
    first = api.get("/api/v1/tenants/acme/aws", headers=admin.headers).json()
    assert first["external_id"].startswith("mantle-") and len(first["external_id"]) > 40
    assert first["platform_principal_arn"] == PRINCIPAL
    assert api.get("/api/v1/tenants/acme/aws", headers=admin.headers).json() == first
    other = factory.member("beta", "bob@example.com", "owner")
    theirs = api.get("/api/v1/tenants/beta/aws", headers=other.headers).json()
    assert theirs["external_id"] != first["external_id"]
    role = {"kind": "role", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/mantle"}
    env = api.post(BASE, json=body(credentials=role, account_id=None), headers=admin.headers)
    assert env.json()["credentials"]["external_id"] == first["external_id"]
    assert env.json()["account_id"] == ACCOUNT


def test_changing_credentials_replaces_them_whole(api, admin, database) -> None:
    api.post(BASE, json=body(), headers=admin.headers)
    role = {"kind": "role", "role_arn": "arn:aws:iam::210987654321:role/mantle"}
    changed = api.patch(f"{BASE}/prod", json={"credentials": role}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    creds = changed.json()["credentials"]
    assert creds["kind"] == "role" and creds["has_secret_key"] is False
    assert changed.json()["account_id"] == "210987654321"  # the role's account
    with database.session() as session:
        row = session.scalar(select(SqlEnvironment))
        assert row.secrets_ciphertext is None and row.access_key_last4 is None
    mismatch = api.patch(f"{BASE}/prod", json={"account_id": ACCOUNT}, headers=admin.headers)
    assert mismatch.status_code == 422


def test_bucket_names_follow_the_aws_rules(api, admin, database) -> None:
    refused = api.post(BASE, json=body(write_bucket="192.168.1.1"), headers=admin.headers)
    assert refused.status_code == 422
    assert "must not look like an IP address" in refused.json()["error"]["message"]
    assert api.post(BASE, json=body(), headers=admin.headers).status_code == 201
    bad_read = {"read_buckets": [{"bucket": "a..b"}]}
    refused = api.patch(f"{BASE}/prod", json=bad_read, headers=admin.headers)
    assert refused.status_code == 422
    assert "read_buckets.0.bucket" in refused.json()["error"]["message"]
    assert "two adjacent dots" in refused.json()["error"]["message"]
    # A name stored under the older, looser rule is still shown, so it can be corrected.
    with database.session() as session:
        session.scalar(select(SqlEnvironment)).read_buckets = [{"bucket": "a..b", "prefix": ""}]
    shown = api.get(f"{BASE}/prod", headers=admin.headers)
    assert shown.status_code == 200 and shown.json()["read_buckets"][0]["bucket"] == "a..b"
    fixed = {"read_buckets": [{"bucket": "a.b"}]}
    assert api.patch(f"{BASE}/prod", json=fixed, headers=admin.headers).status_code == 200


def test_server_credentials_need_the_servers_consent(api, admin, settings) -> None:
    refused = api.post(BASE, json=body(credentials={"kind": "server"}), headers=admin.headers)
    assert refused.status_code == 403
    assert "ALLOW_SERVER_CREDENTIALS" in refused.json()["error"]["message"]
    settings.aws.allow_server_credentials = True
    allowed = api.post(BASE, json=body(credentials={"kind": "server"}), headers=admin.headers)
    assert allowed.status_code == 201, allowed.text


def test_secrets_are_encrypted_at_rest(api, admin, database) -> None:
    api.post(BASE, json=body(), headers=admin.headers)
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM aws_environments")).mappings().all()
    dumped = repr([dict(r) for r in rows])
    assert SECRET not in dumped and KEY_ID not in dumped
    assert rows[0]["secrets_ciphertext"].startswith("v1.")
    with database.session() as session:
        assert SECRET not in repr(session.scalar(select(SqlEnvironment)))


def test_secrets_never_come_back_out(api, admin, factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [api.post(BASE, json=body(), headers=admin.headers)]
    responses.append(api.post(BASE, json=body(), headers=admin.headers))  # conflict
    bad_credentials = body("bad")
    bad_credentials["credentials"] = {**bad_credentials["credentials"], "access_key_id": "x"}
    responses.append(api.post(BASE, json=bad_credentials, headers=admin.headers))
    responses.append(api.post(BASE, json=body("bad", region="nowhere"), headers=admin.headers))
    responses += [
        api.get(BASE, headers=admin.headers),
        api.get(f"{BASE}/prod", headers=admin.headers),
        api.get(f"{BASE}/prod/setup-kit", headers=admin.headers),
        api.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses[:4]] == [201, 409, 422, 422]
    for response in responses:
        assert SECRET not in response.text and KEY_ID not in response.text, response.text
    assert SECRET not in caplog.text and KEY_ID not in caplog.text
