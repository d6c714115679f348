"""`mantle aws ...` as a user runs it: subprocesses against a real server whose AWS calls go
to the test session's moto server. The secret key goes in through the environment and never
comes out: not on stdout or stderr, not in the server's log."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.aws_env.conftest import HEAD_IMAGE, KEY_ID, ORIGIN, SECRET, AwsSetup, head_job_role
from tests.aws_env.test_doctor import iam_enforced
from tests.live import MANTLE, start_live_server, stop_live_server


@pytest.fixture(scope="module")
def server(moto_server, tmp_path_factory):
    extra = {"MANTLE_AWS__ENDPOINT_URL": moto_server.endpoint_url, "MANTLE_PUBLIC_URL": ORIGIN}
    live = start_live_server(tmp_path_factory.mktemp("aws-live"), extra_env=extra)
    try:
        yield live
    finally:
        stop_live_server(live)


@pytest.fixture
def mantle(server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANTLE_")}
    env.update({"MANTLE_CONFIG_DIR": str(tmp_path / "config"), "NO_COLOR": "1", "COLUMNS": "250"})
    outputs: list[str] = []

    def run(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [MANTLE, *args],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append(done.stdout + done.stderr)
        return done

    login = run(
        "login",
        server.url,
        "--email",
        server.admin_email,
        extra={"MANTLE_PASSWORD": server.admin_password},
    )
    assert login.returncode == 0, login.stderr
    yield run
    everything = "\n".join(outputs) + server.log()
    assert SECRET not in everything and KEY_ID not in everything


def create(mantle, setup: AwsSetup, name: str = "prod"):
    return mantle(
        "aws",
        "environments",
        "create",
        name,
        "--region",
        "us-east-1",
        "--account-id",
        "123456789012",
        "--access-key-id",
        KEY_ID,
        "--write-bucket",
        setup.write_bucket,
        "--write-prefix",
        "mantle",
        "--head-image",
        HEAD_IMAGE,
        "--read-bucket",
        f"{setup.read_bucket}/raw",
        "--head-queue",
        setup.queue,
        "--log-group",
        setup.log_group,
        "--json",
        extra={"MANTLE_AWS_SECRET_ACCESS_KEY": SECRET},
    )


def test_environment_commands(mantle, aws_setup, tmp_path) -> None:
    created = create(mantle, aws_setup)
    assert created.returncode == 0, created.stderr
    env = json.loads(created.stdout)
    assert env["credentials"]["has_secret_key"] and env["is_default"]
    assert env["read_buckets"] == [{"bucket": aws_setup.read_bucket, "prefix": "raw"}]

    listed = mantle("aws", "environments", "list")
    assert listed.returncode == 0 and "prod" in listed.stdout and "us-east-1" in listed.stdout
    shown = json.loads(mantle("aws", "environments", "show", "--json").stdout)  # the default
    assert shown["name"] == "prod"
    updated = mantle("aws", "environments", "update", "prod", "--head-vcpus", "4", "--json")
    assert updated.returncode == 0 and json.loads(updated.stdout)["head_vcpus"] == 4
    external = json.loads(mantle("aws", "external-id", "--json").stdout)
    assert external["external_id"].startswith("mantle-")

    kit = mantle("aws", "setup-kit", "prod", "--out", str(tmp_path / "kit"))
    assert kit.returncode == 0, kit.stderr
    assert json.loads((tmp_path / "kit" / "platform-policy.json").read_text())["Statement"]
    assert (tmp_path / "kit" / "cloudformation.yaml").exists()

    # The live server's tenant is `default`: its head jobs have their own role.
    head_job_role(aws_setup.moto.client("iam"), aws_setup.env(), tenant="default")
    doctor = mantle("aws", "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "all checks passed" in doctor.stdout

    plan = mantle("aws", "provision", "prod", "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["dry_run"] is True

    deleted = mantle("aws", "environments", "delete", "prod", "--yes")
    assert deleted.returncode == 0
    assert mantle("aws", "environments", "show", "prod").returncode == 5  # not found


def test_doctor_failures_exit_1_and_say_how_to_fix(mantle, aws_setup) -> None:
    assert create(mantle, aws_setup, "broken").returncode == 0
    aws_setup.moto.client("batch").update_job_queue(jobQueue=aws_setup.queue, state="DISABLED")
    doctor = mantle("aws", "doctor", "broken")
    assert doctor.returncode == 1
    assert "DISABLED" in doctor.stdout and "update-job-queue" in doctor.stdout
    with iam_enforced(aws_setup.moto.endpoint_url):
        refused = mantle("aws", "doctor", "broken", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["checks"][0]["status"] == "fail"
    mantle("aws", "environments", "delete", "broken", "--yes")


def test_bad_input_is_refused_before_it_reaches_the_server(mantle) -> None:
    refused = mantle(
        "aws",
        "environments",
        "create",
        "x",
        "--region",
        "nowhere",
        "--account-id",
        "1",
        "--access-key-id",
        KEY_ID,
        "--write-bucket",
        "b",
        "--head-queue",
        "q",
        extra={"MANTLE_AWS_SECRET_ACCESS_KEY": SECRET},
    )
    assert refused.returncode == 7 and "region" in refused.stderr
