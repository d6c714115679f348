"""Launch and cancel on an AWS environment with the real awsbatch executor, against the
project's Batch emulator (jobs run as subprocesses) and moto (S3, Logs): the head job goes to
the environment's head queue, cancel terminates it, and a permanent SubmitJob error fails
the run with AWS's message and the doctor hint."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from mantle.db.models import SqlEnvironment
from mantle.runs import placement
from tests.aws import REGION, unique_name
from tests.batch_emulator.fixtures import batch_emulator, moto_server  # noqa: F401
from tests.conftest import make_settings
from tests.runs.conftest import READ_BUCKET

SLEEPER = [sys.executable, "-c", "import sys, time; print('head job for', sys.argv[1]); "
           "time.sleep(60)"]  # fmt: skip


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server, batch_emulator):  # noqa: F811
    batch_emulator.replace_command(["python", "-m", "mantle.launcher"], SLEEPER)
    return make_settings(
        tmp_path,
        migrated_url,
        catalog={"read_buckets": [READ_BUCKET]},
        aws={
            "endpoint_url": moto_server.endpoint_url,
            "endpoint_urls": batch_emulator.endpoint_urls(),
        },
    )


@pytest.fixture
def env(lab, services, moto_server) -> str:  # noqa: F811
    services.executor_factories.register("awsbatch", placement._batch_executor)  # the real one
    bucket = unique_name("write")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    body = {
        "name": "prod",
        "region": REGION,
        "account_id": "123456789012",
        "credentials": {"kind": "keys", "access_key_id": "AKIAMANTLETEST0KEY42",
                        "secret_access_key": "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRETzz"},
        "write_bucket": bucket,
        "head_queue": "mantle-head",
        "compute_queue": "mantle-compute",
        "head_image": "acme/head:1",
        "head_vcpus": 1,
        "head_memory_mib": 512,
    }  # fmt: skip
    lab.ok("POST", "/environments", 201, json=body)
    return bucket


def test_launch_submits_to_the_head_queue_and_cancel_terminates(lab, env, batch_emulator):  # noqa: F811
    ds = lab.pair("S1")
    run = lab.launch(inputs={"datasets": [ds["id"]]})
    assert run["status"] == "SUBMITTED" and run["executor"] == "awsbatch"
    detail = batch_emulator.wait_for(run["external_id"], "RUNNING")
    assert detail["jobQueue"].endswith("mantle-head")
    assert detail["container"]["command"][-1] == run["run_dir"]
    # The head job runs as the setup kit's head-job role (Nextflow submits task jobs with it).
    role = "arn:aws:iam::123456789012:role/mantle-acme-prod-head-job"
    assert detail["container"]["jobRoleArn"] == role
    done = lab.ok("POST", f"/runs/{run['id']}/cancel")
    assert done["status"] == "CANCELLED"
    batch_emulator.wait_for(run["external_id"])
    job = batch_emulator.job(run["external_id"])
    assert job.status == "FAILED" and job.terminate_reason.startswith("cancelled by alice")


def test_access_denied_on_submit_fails_the_run_with_the_hint(lab, env, batch_emulator):  # noqa: F811
    batch_emulator.faults.deny_submit = True
    run = lab.launch(inputs={"datasets": [lab.pair("S1")["id"]]})
    assert run["status"] == "FAILED" and run["external_id"] is None
    assert "AccessDeniedException" in run["status_reason"]
    assert "mantle aws doctor" in run["status_reason"]


def test_another_batch_endpoint_is_another_polling_group(lab, env, services, database, settings):
    """Same credentials, another Batch endpoint (another emulator): polled apart, and a job
    definition remembered for one is never submitted to the other."""
    with database.session() as s:
        row = s.scalars(select(SqlEnvironment)).one()
        first = placement._batch_executor(services, s, row)
        settings.aws.endpoint_urls = {"batch": "http://127.0.0.1:9"}
        second = placement._batch_executor(services, s, row)
    assert first.group_key != second.group_key
