"""The doctor on moto: a clean pass on a correct setup, then one failure at a time, each with
a fix; probes leave nothing behind; secrets never reach a message."""

from __future__ import annotations

import base64
import json
import traceback
from contextlib import contextmanager

import httpx
import pytest
from botocore.exceptions import ClientError

from mantle.aws.connect import AwsConnection
from mantle.aws.errors import describe
from mantle.cloud.aws import doctor, names, policies, userdata
from mantle.schemas.environments import CheckStatus, ReadBucket
from tests.aws_env.conftest import (
    ECS_INSTANCE_POLICY_ARN,
    KEY_ID,
    ORIGIN,
    SECRET,
    AwsSetup,
    unique_name,
)


def run(setup: AwsSetup, conn=None, **env) -> dict:
    checkup = doctor.Doctor(
        env=setup.env(**env),
        conn=conn or setup.connection(),
        origin=ORIGIN,
        tenant="acme",
        secrets=(SECRET,),
    )
    report = doctor.run(checkup)
    return {check.name: check for check in report.checks} | {"_report": report}


def statuses(found: dict) -> dict[str, str]:
    return {name: c.status.value for name, c in found.items() if name != "_report"}


def test_clean_pass(aws_setup) -> None:
    found = run(aws_setup)
    assert found["_report"].ok, statuses(found)
    assert set(statuses(found).values()) == {"pass"}
    assert {
        "credentials",
        f"bucket {aws_setup.write_bucket}",
        f"bucket {aws_setup.read_bucket}",
        f"read {aws_setup.read_bucket}",
        f"list {aws_setup.write_bucket}",
        f"write {aws_setup.write_bucket}",
        f"multipart {aws_setup.write_bucket}",
        f"cors {aws_setup.write_bucket}",
        f"cors {aws_setup.read_bucket}",
        f"queue {aws_setup.queue}",
        "compute environments",
        "job definition",
        "head image",
        f"logs {aws_setup.log_group}",
        "instance role",
        "launch template",
        "head job role",
    } == set(statuses(found))
    assert "ECS_AL2" in found["compute environments"].message
    assert "the kit's user data, IMDSv2 required" in found["launch template"].message


def test_the_stock_nextflow_image_fails_the_head_image_check(aws_setup) -> None:
    check = run(aws_setup, head_image="nextflow/nextflow:24.10.4")["head image"]
    assert check.status.value == "fail"
    assert "not Mantle's launcher" in check.message and "head-job.Dockerfile" in check.fix


def test_the_head_job_role_missing_untrusted_or_short_of_rights_fails(aws_setup) -> None:
    iam = aws_setup.moto.client("iam")
    role = names.resource_names("acme", "prod").head_job_role
    iam.delete_role_policy(RoleName=role, PolicyName="nextflow-head-job")
    check = run(aws_setup)["head job role"]
    assert check.status.value == "fail" and "batch:Describe" in check.message
    assert "head-job-role-policy.json" in check.fix
    iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=json.dumps(policies.service_trust_policy("ec2.amazonaws.com")),
    )
    check = run(aws_setup)["head job role"]
    assert check.status.value == "fail" and "ECS tasks" in check.message
    iam.delete_role(RoleName=role)
    check = run(aws_setup)["head job role"]
    assert check.status.value == "fail" and "ecs-tasks.amazonaws.com" in check.fix


def test_probes_leave_nothing_behind(aws_setup) -> None:
    run(aws_setup)
    s3 = aws_setup.moto.client("s3")
    assert s3.list_objects_v2(Bucket=aws_setup.write_bucket).get("KeyCount") == 0
    assert not s3.list_multipart_uploads(Bucket=aws_setup.write_bucket).get("Uploads")
    batch = aws_setup.moto.client("batch")
    active = batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    assert not [d for d in active if d["jobDefinitionName"].endswith("-doctor")]


class FailingUploads(AwsConnection):
    """Clients whose UploadPart fails, as if the network broke mid-probe."""

    def client(self, service: str, **config):
        made = super().client(service, **config)

        def refuse(**_kwargs):
            raise ClientError({"Error": {"Code": "InvalidRequest"}}, "UploadPart")

        made.meta.events.register("before-call.s3.UploadPart", refuse)
        return made


def test_probes_clean_up_when_a_later_step_fails(aws_setup) -> None:
    base = aws_setup.connection()
    conn = FailingUploads(base.session, base.region, base.endpoint_url)
    key_id, secret = write_only_key(aws_setup)
    found = run(aws_setup, conn=conn)
    assert found[f"multipart {aws_setup.write_bucket}"].status is CheckStatus.fail
    with iam_enforced(aws_setup.moto.endpoint_url):
        found = run(aws_setup, conn=aws_setup.connection(key_id, secret))
    write = found[f"write {aws_setup.write_bucket}"]
    assert write.status is CheckStatus.fail and "GetObject failed" in write.message
    s3 = aws_setup.moto.client("s3")
    assert s3.list_objects_v2(Bucket=aws_setup.write_bucket).get("KeyCount") == 0
    assert not s3.list_multipart_uploads(Bucket=aws_setup.write_bucket).get("Uploads")


def test_ecr_is_checked_when_used(aws_setup) -> None:
    found = run(aws_setup, use_ecr=True)
    assert found["ecr"].status is CheckStatus.passed


def test_bucket_in_another_region(aws_setup) -> None:
    elsewhere = unique_name("eu")
    aws_setup.moto.client("s3").create_bucket(
        Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    check = run(aws_setup, write_bucket=elsewhere)[f"bucket {elsewhere}"]
    assert check.status is CheckStatus.fail
    assert "eu-west-1" in check.message and "us-east-1" in check.message
    assert "region" in check.fix


def test_read_bucket_in_another_region_warns(aws_setup) -> None:
    elsewhere = unique_name("eu")
    aws_setup.moto.client("s3").create_bucket(
        Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    found = run(aws_setup, read_buckets=[ReadBucket(bucket=elsewhere)])
    check = found[f"bucket {elsewhere}"]
    assert check.status is CheckStatus.warn and "eu-west-1" in check.message
    assert found[f"bucket {aws_setup.write_bucket}"].status is CheckStatus.passed


def test_missing_bucket_fix_says_create_it(aws_setup) -> None:
    missing = unique_name("missing")
    found = run(aws_setup, write_bucket=missing)
    for name in (f"bucket {missing}", f"list {missing}", f"write {missing}"):
        check = found[name]
        assert check.status is CheckStatus.fail and "NoSuchBucket" in check.message, name
        assert check.fix.startswith(f"create the bucket {missing} in us-east-1"), check.fix
    assert not found["_report"].ok


def test_missing_cors(aws_setup) -> None:
    aws_setup.moto.client("s3").delete_bucket_cors(Bucket=aws_setup.write_bucket)
    check = run(aws_setup)[f"cors {aws_setup.write_bucket}"]
    assert check.status is CheckStatus.fail and "no CORS rules" in check.message
    assert "put-bucket-cors" in check.fix and "cors-write-bucket.json" in check.fix


def test_cors_for_another_origin_or_without_etag(aws_setup) -> None:
    s3 = aws_setup.moto.client("s3")
    rule = {"AllowedMethods": ["GET", "PUT", "POST"], "AllowedOrigins": ["https://else.example"]}
    s3.put_bucket_cors(Bucket=aws_setup.write_bucket, CORSConfiguration={"CORSRules": [rule]})
    check = run(aws_setup)[f"cors {aws_setup.write_bucket}"]
    assert check.status is CheckStatus.fail and f"PUT from {ORIGIN}" in check.message
    rule["AllowedOrigins"] = [ORIGIN]
    s3.put_bucket_cors(Bucket=aws_setup.write_bucket, CORSConfiguration={"CORSRules": [rule]})
    check = run(aws_setup)[f"cors {aws_setup.write_bucket}"]
    assert check.status is CheckStatus.fail and "ETag" in check.message


def test_disabled_queue(aws_setup) -> None:
    aws_setup.moto.client("batch").update_job_queue(jobQueue=aws_setup.queue, state="DISABLED")
    check = run(aws_setup)[f"queue {aws_setup.queue}"]
    assert check.status is CheckStatus.fail and "DISABLED" in check.message
    assert f"--job-queue {aws_setup.queue} --state ENABLED" in check.fix


def test_disabled_compute_environment_is_to_be_enabled(aws_setup) -> None:
    aws_setup.moto.client("batch").update_compute_environment(
        computeEnvironment=aws_setup.compute_environment, state="DISABLED"
    )
    check = run(aws_setup)["compute environments"]
    assert check.status is CheckStatus.fail and "DISABLED" in check.message
    assert check.fix.startswith("update it to ENABLED") and "recreate" not in check.fix
    assert f"--compute-environment {aws_setup.compute_environment} --state ENABLED" in check.fix


def test_instance_role_problems_each_have_a_fix(aws_setup) -> None:
    iam, role = aws_setup.moto.client("iam"), aws_setup.compute_environment
    iam.delete_role_policy(RoleName=role, PolicyName="s3")
    check = run(aws_setup)["instance role"]
    assert check.status is CheckStatus.fail and "lacks s3:ListBucket on" in check.message
    assert "instance-role-s3-policy.json" in check.fix
    iam.detach_role_policy(RoleName=role, PolicyArn=ECS_INSTANCE_POLICY_ARN)
    check = run(aws_setup)["instance role"]
    assert (
        "AmazonEC2ContainerServiceforEC2Role" in check.message and "attach-role-policy" in check.fix
    )
    iam.update_assume_role_policy(
        RoleName=role, PolicyDocument=json.dumps(policies.service_trust_policy("ecs.amazonaws.com"))
    )
    check = run(aws_setup)["instance role"]
    assert (
        "does not let EC2 assume it" in check.message and "update-assume-role-policy" in check.fix
    )
    iam.remove_role_from_instance_profile(InstanceProfileName=role, RoleName=role)
    check = run(aws_setup)["instance role"]
    assert check.status is CheckStatus.fail and "holds no role" in check.message


def queue_with_template(setup: AwsSetup, template_data: dict) -> str:
    """A new queue on a new compute environment that boots from a new launch template."""
    batch, ec2 = setup.moto.client("batch"), setup.moto.client("ec2")
    described = batch.describe_compute_environments(
        computeEnvironments=[setup.compute_environment]
    )["computeEnvironments"][0]
    name, queue = unique_name("ce"), unique_name("queue")
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=template_data)
    resources = {**described["computeResources"]}
    resources["launchTemplate"] = {"launchTemplateName": name, "version": "1"}
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        state="ENABLED",
        computeResources=resources,
        serviceRole=described["serviceRole"],
    )
    batch.create_job_queue(
        jobQueueName=queue,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}],
    )
    return queue


def test_launch_template_without_the_cli_or_imdsv2_fails(aws_setup) -> None:
    old = base64.b64encode(b"#!/bin/bash\ngit clone amazon-ebs-autoscale\n").decode()
    queue = queue_with_template(
        aws_setup, {"UserData": old, "MetadataOptions": {"HttpTokens": "optional"}}
    )
    check = run(aws_setup, head_queue=queue, compute_queue=queue)["launch template"]
    assert check.status is CheckStatus.fail
    for problem in ("IMDSv2 is not required", "does not install the AWS CLI", "no Docker volume"):
        assert problem in check.message
    assert "mantle aws provision" in check.fix


def test_launch_template_with_other_user_data_warns(aws_setup) -> None:
    data = userdata.launch_template_data(aws_setup.env(), "acme")
    edited = (
        base64.b64decode(data["UserData"])
        .decode()
        .replace("#!/bin/bash\n", "#!/bin/bash\n# ours\n")
    )
    data["UserData"] = base64.b64encode(edited.encode()).decode()
    queue = queue_with_template(aws_setup, data)
    check = run(aws_setup, head_queue=queue, compute_queue=queue)["launch template"]
    assert check.status is CheckStatus.warn and "differs from the kit's" in check.message


def test_missing_queue(aws_setup) -> None:
    found = run(aws_setup, head_queue="nope", compute_queue="nope")
    assert found["queue nope"].status is CheckStatus.fail
    assert found["compute environments"].status is CheckStatus.fail


def test_compute_environment_without_launch_template(aws_setup) -> None:
    batch, iam = aws_setup.moto.client("batch"), aws_setup.moto.client("iam")
    described = batch.describe_compute_environments(
        computeEnvironments=[aws_setup.compute_environment]
    )["computeEnvironments"][0]
    resources = {k: v for k, v in described["computeResources"].items() if k != "launchTemplate"}
    bare, queue = unique_name("bare"), unique_name("queue")
    profile = iam.get_instance_profile(InstanceProfileName=aws_setup.compute_environment)
    resources["instanceRole"] = profile["InstanceProfile"]["Arn"]
    batch.create_compute_environment(
        computeEnvironmentName=bare,
        type="MANAGED",
        state="ENABLED",
        computeResources=resources,
        serviceRole=described["serviceRole"],
    )
    batch.create_job_queue(
        jobQueueName=queue,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": bare}],
    )
    check = run(aws_setup, head_queue=queue, compute_queue=queue)["compute environments"]
    assert check.status is CheckStatus.fail and "no launch template" in check.message


def test_missing_log_group_is_a_warning(aws_setup) -> None:
    check = run(aws_setup, log_group="/aws/batch/never-created")["logs /aws/batch/never-created"]
    assert check.status is CheckStatus.warn and "first job" in check.message


@contextmanager
def iam_enforced(moto_url: str):
    """Make the shared moto server check IAM (S3 included) for the length of the block.
    Every other test runs with it off, so it is always switched back."""
    httpx.post(f"{moto_url}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        yield
    finally:
        httpx.post(f"{moto_url}/moto-api/reset-auth", content=b"inf").raise_for_status()


def read_only_key(setup: AwsSetup) -> tuple[str, str]:
    """An IAM user whose policy reads the buckets but never writes."""
    iam = setup.moto.client("iam")
    user = unique_name("reader")
    iam.create_user(UserName=user)
    buckets = [setup.write_bucket, setup.read_bucket]
    resources = [f"arn:aws:s3:::{b}" for b in buckets] + [f"arn:aws:s3:::{b}/*" for b in buckets]
    read = ["s3:GetBucketLocation", "s3:GetBucketCORS", "s3:ListBucket", "s3:GetObject"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": read, "Resource": resources}],
    }
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def write_only_key(setup: AwsSetup) -> tuple[str, str]:
    """An IAM user that may write and delete under the write prefix but never read back."""
    iam = setup.moto.client("iam")
    user = unique_name("writer")
    iam.create_user(UserName=user)
    actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket"]
    resources = [f"arn:aws:s3:::{setup.write_bucket}", f"arn:aws:s3:::{setup.write_bucket}/*"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": resources},
            {"Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName=user, PolicyName="write", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_key_whose_policy_refuses_writes(aws_setup) -> None:
    key_id, secret = read_only_key(aws_setup)
    with iam_enforced(aws_setup.moto.endpoint_url):
        found = run(aws_setup, conn=aws_setup.connection(key_id, secret))
    assert found["credentials"].status is CheckStatus.passed
    assert found[f"read {aws_setup.read_bucket}"].status is CheckStatus.passed
    write = found[f"write {aws_setup.write_bucket}"]
    assert write.status is CheckStatus.fail and write.retryable is False
    assert "PutObject failed: AccessDenied" in write.message
    assert "s3:PutObject" in write.fix and "platform-policy.json" in write.fix
    assert found[f"multipart {aws_setup.write_bucket}"].status is CheckStatus.fail
    assert not found["_report"].ok


def test_bad_credentials_stop_early_and_stay_secret(aws_setup) -> None:
    with iam_enforced(aws_setup.moto.endpoint_url):
        found = run(aws_setup, conn=aws_setup.connection("AKIANOSUCHKEY0000042", SECRET))
    report = found["_report"]
    assert [c.name for c in report.checks] == ["credentials"]
    assert report.checks[0].status is CheckStatus.fail
    assert "access key" in report.checks[0].fix
    assert SECRET not in report.model_dump_json()


def test_unreachable_aws_is_retryable_and_never_shows_the_secret(aws_setup) -> None:
    from mantle.aws.connect import connect
    from mantle.aws.session import AwsCredentials

    creds = AwsCredentials(access_key_id="AKIAUNREACHABLE00042", secret_access_key=SECRET)
    conn = connect(creds, "us-east-1", endpoint_url="http://127.0.0.1:9")
    found = run(aws_setup, conn=conn)
    check = found["credentials"]
    assert check.status is CheckStatus.fail and check.retryable
    assert "again" in check.fix and SECRET not in found["_report"].model_dump_json()
    with pytest.raises(Exception) as caught:
        conn.client("sts").get_caller_identity()
    printed = "".join(traceback.format_exception(caught.value))
    assert SECRET not in printed and SECRET not in str(describe(caught.value, [SECRET]))


def test_objects_holding_credentials_do_not_print_them(aws_setup) -> None:
    from mantle.aws.session import AwsCredentials
    from mantle.cloud.aws.environments import EnvironmentInUse
    from mantle.cloud.aws.provision import ProvisionSpec

    creds = AwsCredentials(access_key_id=KEY_ID, secret_access_key=SECRET)
    env = aws_setup.env()
    held = [
        doctor.Doctor(
            env=env,
            conn=aws_setup.connection(),
            origin=ORIGIN,
            tenant="acme",
            secrets=(SECRET, KEY_ID),
        ),
        ProvisionSpec(env=env, tenant="acme", secrets=(SECRET, KEY_ID)),
        EnvironmentInUse(tenant="acme", public=env, credentials=creds),
    ]
    for thing in held:
        assert SECRET not in repr(thing) and KEY_ID not in repr(thing)
