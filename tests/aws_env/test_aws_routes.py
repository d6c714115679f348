"""The setup kit, doctor and provisioner through the API, against moto (SQLite and
PostgreSQL): the server decrypts the environment's credentials, acts, and answers without
ever showing them, even when AWS refuses."""

from __future__ import annotations

import logging

from mantle.cloud.aws import names
from tests.aws_env.conftest import HEAD_IMAGE, KEY_ID, PRINCIPAL, SECRET
from tests.aws_env.test_doctor import iam_enforced
from tests.aws_env.test_provision import fresh  # noqa: F401 - a fixture, by name

BASE = "/api/v1/tenants/acme/environments"


def test_setup_kit_through_the_api(api, factory, aws_setup) -> None:
    admin = factory.member("acme", "alice@example.com", "admin")
    role = {"kind": "role", "role_arn": "arn:aws:iam::123456789012:role/mantle"}
    api.post(BASE, json=aws_setup.body(credentials=role), headers=admin.headers)
    kit = api.get(f"{BASE}/prod/setup-kit", headers=admin.headers)
    assert kit.status_code == 200, kit.text
    files = kit.json()["files"]
    external_id = api.get("/api/v1/tenants/acme/aws", headers=admin.headers).json()["external_id"]
    assert external_id in files["platform-trust-policy.json"]
    assert PRINCIPAL in files["platform-trust-policy.json"]
    assert aws_setup.write_bucket in files["platform-policy.json"]
    assert "http://testserver" in files["cors-write-bucket.json"]


def test_doctor_through_the_api(api, factory, aws_setup) -> None:
    admin = factory.member("acme", "alice@example.com", "admin")
    member = factory.member("acme", "mo@example.com", "member")
    assert api.post(BASE, json=aws_setup.body(), headers=admin.headers).status_code == 201
    report = api.post(f"{BASE}/prod/doctor", headers=member.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["ok"] is True, [c for c in body["checks"] if c["status"] != "pass"]
    assert {c["status"] for c in body["checks"]} == {"pass"}


def test_a_failing_doctor_never_shows_the_secret(api, factory, aws_setup, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    admin = factory.member("acme", "alice@example.com", "admin")
    api.post(BASE, json=aws_setup.body(), headers=admin.headers)
    with iam_enforced(aws_setup.moto.endpoint_url):  # moto now rejects the unknown key
        report = api.post(f"{BASE}/prod/doctor", headers=admin.headers)
        provision = api.post(
            f"{BASE}/prod/provision", json={"dry_run": True}, headers=admin.headers
        )
    assert report.status_code == 200 and report.json()["ok"] is False
    (check,) = report.json()["checks"]
    assert check["name"] == "credentials" and check["status"] == "fail"
    assert provision.status_code == 502
    assert provision.json()["error"]["code"] == "cloud_error"
    for text in (report.text, provision.text):
        assert SECRET not in text and KEY_ID not in text
    # Even botocore's DEBUG logs never carry the secret key; they do carry the key id (in the
    # signed Authorization header), which the server's INFO logging never shows.
    assert SECRET not in caplog.text
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert KEY_ID not in logged


def test_provision_through_the_api_is_idempotent(api, factory, fresh) -> None:  # noqa: F811
    admin = factory.member("acme", "alice@example.com", "admin")
    env = fresh.env
    body = {
        "name": "prod",
        "region": env.region,
        "credentials": {"kind": "role", "role_arn": f"arn:aws:iam::{env.account_id}:role/mantle"},
        "write_bucket": env.write_bucket,
        "read_buckets": [{"bucket": env.read_buckets[0].bucket}],
        "head_queue": env.head_queue,
        "compute_queue": env.compute_queue,
        "head_image": HEAD_IMAGE,
        "log_group": env.log_group,
    }
    assert api.post(BASE, json=body, headers=admin.headers).status_code == 201
    plan = api.post(f"{BASE}/prod/provision", json={"dry_run": True}, headers=admin.headers)
    assert plan.status_code == 200, plan.text
    assert plan.json()["dry_run"] and plan.json()["changed"]
    first = api.post(f"{BASE}/prod/provision", json={}, headers=admin.headers).json()
    assert first["changed"] and not first["dry_run"]
    again = api.post(f"{BASE}/prod/provision", json={}, headers=admin.headers).json()
    assert again["changed"] is False
    queue = fresh.conn.client("batch").describe_job_queues(jobQueues=[env.head_queue])
    assert queue["jobQueues"][0]["tags"] == {"mantle:tenant": "acme", "mantle:environment": "prod"}
    ce_name = names.resource_names("acme", "prod").compute_environment
    assert [a for a in first["actions"] if a["name"] == ce_name][0]["action"] == "create"
    report = api.post(f"{BASE}/prod/doctor", headers=admin.headers).json()
    assert report["ok"], [c for c in report["checks"] if c["status"] != "pass"]
