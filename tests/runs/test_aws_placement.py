"""Runs on an AWS environment (moto's S3): the run directory and work directory in the write
bucket under its prefix, opened with the environment's credentials; the tenant's default
environment is used when the launch names none; `local` still means local."""

from __future__ import annotations

import json

import pytest

from mantle import rundir
from mantle.db.models import SqlEnvironment
from mantle.runs import placement
from tests.aws import REGION, moto_server, unique_name  # noqa: F401
from tests.conftest import make_settings
from tests.runs.conftest import READ_BUCKET

KEY_ID, SECRET = "AKIAMANTLETEST0KEY42", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRETzz"


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server):  # noqa: F811
    return make_settings(
        tmp_path,
        migrated_url,
        catalog={"read_buckets": [READ_BUCKET]},
        aws={"endpoint_url": moto_server.endpoint_url},
    )


@pytest.fixture
def bucket(moto_server, lab) -> str:  # noqa: F811
    name = unique_name("write")
    moto_server.client("s3").create_bucket(Bucket=name)
    body = {
        "name": "prod",
        "region": REGION,
        "account_id": "123456789012",
        "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
        "write_bucket": name,
        "write_prefix": "mantle",
        "head_queue": "mantle-head",
        "compute_queue": "mantle-compute",
        "log_group": "/aws/batch/job",
    }
    lab.ok("POST", "/environments", 201, json=body)
    return name


def test_a_run_on_an_environment_lives_in_its_write_bucket(lab, bucket, moto_server):  # noqa: F811
    ds = lab.pair("S1")
    run = lab.launch(inputs={"datasets": [ds["id"]]}, environment="prod")
    assert run["environment"] == "prod" and run["executor"] == "awsbatch"
    assert run["run_dir"] == f"s3://{bucket}/mantle/runs/{run['id']}/"
    assert run["work_dir"] == f"s3://{bucket}/mantle/work/{run['id']}"
    s3 = moto_server.client("s3")
    key = f"mantle/runs/{run['id']}/"
    spec = rundir.RunSpec.model_validate_json(
        s3.get_object(Bucket=bucket, Key=key + rundir.RUN_JSON)["Body"].read()
    )
    assert spec.executor == "awsbatch" and spec.work_dir == run["work_dir"]
    params = json.loads(s3.get_object(Bucket=bucket, Key=key + rundir.PARAMS_JSON)["Body"].read())
    assert params["input"] == run["run_dir"] + rundir.SAMPLESHEET_CSV
    assert params["outdir"] == run["run_dir"] + "outputs/"
    config = s3.get_object(Bucket=bucket, Key=key + rundir.NEXTFLOW_CONFIG)["Body"].read().decode()
    assert "process.executor = 'awsbatch'" in config
    assert "process.queue = 'mantle-compute'" in config
    assert f"workDir = '{run['work_dir']}'" in config and f"'{run['id']}'" in config
    assert s3.get_object(Bucket=bucket, Key=key + rundir.SAMPLESHEET_CSV)["ContentLength"] > 0
    # Resume keeps the work directory of the run it continues.
    lab.ok("POST", f"/runs/{run['id']}/cancel")
    resumed = lab.ok("POST", f"/runs/{run['id']}/resume", 201)
    assert resumed["work_dir"] == run["work_dir"] and resumed["environment"] == "prod"
    assert resumed["run_dir"] == f"s3://{bucket}/mantle/runs/{resumed['id']}/"
    key = f"mantle/runs/{resumed['id']}/{rundir.NEXTFLOW_CONFIG}"
    config = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert f"workDir = '{run['work_dir']}'" in config


def test_the_default_environment_unless_local_is_asked_for(lab, bucket):
    ds = lab.pair("S1")
    assert lab.launch(inputs={"datasets": [ds["id"]]})["environment"] == "prod"
    assert lab.launch(inputs={"datasets": [ds["id"]]}, environment="local")["executor"] == "local"


def test_the_batch_executor_of_an_environment(lab, bucket, database, app):
    from mantle.executors.awsbatch import AwsBatchExecutor

    with database.session() as s:
        env = s.query(SqlEnvironment).one()
        executor = placement._batch_executor(app.state.services, s, env)
    assert isinstance(executor, AwsBatchExecutor)
    assert executor.target.head_queue == "mantle-head" and executor.target.region == REGION
    assert executor.group_key.startswith("awsbatch:") and KEY_ID not in executor.group_key
