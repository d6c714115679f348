"""The Batch payloads as plain data: job definition spec and its content-hash name, the head
job's SubmitJob request, the Nextflow config layer; and the credentials group key."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from mantle.aws.session import AwsCredentials
from mantle.executors.awsbatch import (
    BatchTarget,
    credentials_group,
    head_job_request,
    job_definition_name,
    job_definition_spec,
    nextflow_config,
)
from mantle.executors.base import HeadJob
from mantle.executors.batch_payload import groovy_string, job_name

TARGET = BatchTarget(
    region="eu-west-1",
    head_queue="mantle-head",
    compute_queue="mantle-compute",
    head_image="ghcr.io/acme/mantle-head:1.0",
    head_vcpus=2,
    head_memory_mib=4096,
    cli_path="/miniconda/bin/aws",
    work_dir="s3://acme-mantle/mantle/work",
)
RUN = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
TENANT = uuid.UUID("11111111-2222-3333-4444-555555555555")


def head_job(name: str = "rnaseq on batch 7", **env: str) -> HeadJob:
    return HeadJob(
        run_id=RUN,
        tenant_id=TENANT,
        run_dir_url=f"s3://acme-mantle/mantle/runs/{RUN}/",
        name=name,
        environment=env,
    )


def test_definition_name_is_a_content_hash_of_the_spec():
    spec = job_definition_spec(TARGET)
    name = job_definition_name(spec)
    assert re.fullmatch(r"mantle-head-[0-9a-f]{16}", name)
    assert job_definition_name(job_definition_spec(replace(TARGET))) == name  # equal: reused
    assert job_definition_name(dict(reversed(spec.items()))) == name  # key order is irrelevant
    for changed in (
        replace(TARGET, head_image="ghcr.io/acme/mantle-head:1.1"),
        replace(TARGET, head_memory_mib=8192),
        replace(TARGET, job_role_arn="arn:aws:iam::1:role/head"),
    ):
        assert job_definition_name(job_definition_spec(changed)) != name
    # What only the run's config uses does not make a new definition.
    unchanged = replace(TARGET, compute_queue="other", work_dir="s3://x/y", extra_config="a=1")
    assert job_definition_name(job_definition_spec(unchanged)) == name


def test_definition_spec():
    spec = job_definition_spec(TARGET)
    container = spec["containerProperties"]
    assert spec["type"] == "container"
    assert spec["retryStrategy"] == {"attempts": 1}
    assert container["image"] == TARGET.head_image
    assert container["command"] == ["python", "-m", "mantle.launcher"]
    assert {"type": "VCPU", "value": "2"} in container["resourceRequirements"]
    assert {"type": "MEMORY", "value": "4096"} in container["resourceRequirements"]
    assert "jobRoleArn" not in container and "logConfiguration" not in container
    custom = job_definition_spec(
        replace(TARGET, job_role_arn="arn:aws:iam::1:role/head", log_group="/acme/jobs")
    )["containerProperties"]
    assert custom["jobRoleArn"] == "arn:aws:iam::1:role/head"
    assert custom["logConfiguration"]["options"]["awslogs-group"] == "/acme/jobs"


def test_head_job_request():
    request = head_job_request(head_job(MANTLE_X="1", A_B="two"), TARGET, "arn:def:3")
    assert request["jobName"] == "mantle-0f1e2d3c-rnaseq-on-batch-7"
    assert request["jobQueue"] == "mantle-head"
    assert request["jobDefinition"] == "arn:def:3"
    assert request["tags"] == {"mantle:run": str(RUN), "mantle:tenant": str(TENANT)}
    assert request["propagateTags"] is True
    assert request["retryStrategy"] == {"attempts": 1}
    overrides = request["containerOverrides"]
    assert overrides["command"] == ["python", "-m", "mantle.launcher", head_job().run_dir_url]
    assert overrides["environment"] == [
        {"name": "A_B", "value": "two"},
        {"name": "MANTLE_X", "value": "1"},
    ]


def test_job_names_keep_to_what_batch_allows():
    allowed = re.compile(r"[A-Za-z0-9_-]{1,128}")
    for name in ("", "   ", "ünïcode / slashes: & 'quotes'", "x" * 500, "--a--", "ok_name-1"):
        made = job_name(head_job(name))
        assert allowed.fullmatch(made), made
        assert made.startswith("mantle-0f1e2d3c")
    assert job_name(head_job("")) == "mantle-0f1e2d3c"
    assert job_name(head_job("a/b c")) == "mantle-0f1e2d3c-a-b-c"


def test_nextflow_config():
    config = nextflow_config(
        replace(TARGET, extra_config="process.memory = '2 GB'\n"),
        run_id=str(RUN),
        tenant_id=str(TENANT),
    )
    lines = config.splitlines()
    assert "process.executor = 'awsbatch'" in lines
    assert "process.queue = 'mantle-compute'" in lines
    assert "workDir = 's3://acme-mantle/mantle/work'" in lines
    assert "aws.region = 'eu-west-1'" in lines
    assert "aws.batch.cliPath = '/miniconda/bin/aws'" in lines
    assert f"process.resourceLabels = ['mantle:run': '{RUN}', 'mantle:tenant': '{TENANT}']" in lines
    # The environment's own config comes after the platform's, so it may refine it.
    assert lines[-1] == "process.memory = '2 GB'"
    assert config.endswith("\n")


def test_config_values_cannot_break_out_of_their_string():
    hostile = "q' \nprocess.executor = 'local' //"
    config = nextflow_config(
        replace(TARGET, compute_queue=hostile, work_dir="s3://b/${System.exit(1)}\\"),
        run_id="r",
        tenant_id="t",
    )
    assert "process.executor = 'local'" not in config.splitlines()
    assert r"process.queue = 'q\' \nprocess.executor = \'local\' //'" in config
    # Single quotes: Groovy does not interpolate ${...}; a trailing backslash stays escaped.
    assert "workDir = 's3://b/${System.exit(1)}\\\\'" in config
    assert groovy_string("it's") == r"'it\'s'"


def test_credentials_group():
    keys = AwsCredentials(access_key_id="AKIA1", secret_access_key="s1")
    same_key_new_secret = AwsCredentials(access_key_id="AKIA1", secret_access_key="s2")
    other = AwsCredentials(access_key_id="AKIA2", secret_access_key="s1")
    role = AwsCredentials(role_arn="arn:aws:iam::1:role/r", external_id="x")
    group = credentials_group(keys, "eu-west-1")
    assert group == credentials_group(same_key_new_secret, "eu-west-1")
    assert group != credentials_group(keys, "us-east-1")
    assert group != credentials_group(other, "eu-west-1")
    assert group != credentials_group(keys, "eu-west-1", endpoint_url="http://127.0.0.1:1")
    assert credentials_group(role, "eu-west-1") != credentials_group(
        role.model_copy(update={"external_id": "y"}), "eu-west-1"
    )
    assert "s1" not in group and "AKIA1" not in group
