"""The provisioner on moto: a dry run plans without acting, a run creates every resource
tagged for the tenant and environment, a second run changes nothing, drift is repaired, and
the doctor passes on what it built."""

from __future__ import annotations

import json
import random
import traceback
from dataclasses import dataclass

import pytest

from mantle.aws.connect import AwsConnection, connect
from mantle.aws.session import AwsCredentials
from mantle.cloud.aws import cors, doctor, names
from mantle.cloud.aws.provision import Provisioner, ProvisionSpec
from mantle.errors import CloudError
from mantle.schemas.environments import CheckStatus, EnvironmentPublic, ReadBucket
from tests.aws_env.conftest import (
    ORIGIN,
    REGION,
    SECRET,
    MotoServer,
    env_public,
    load_aws_managed_policies,
    unique_name,
)
from tests.aws_env.test_doctor import iam_enforced, read_only_key


@dataclass
class Fresh:
    """An AWS account of its own (an assumed role in moto) with buckets but no Batch side."""

    tenant: str
    env: EnvironmentPublic
    conn: AwsConnection
    moto: MotoServer


@pytest.fixture
def fresh(moto_server: MotoServer) -> Fresh:  # noqa: F811 - a fixture, by name
    account = str(random.randrange(10**11, 10**12))
    creds = AwsCredentials(role_arn=f"arn:aws:iam::{account}:role/mantle", external_id="mantle-x")
    conn = connect(creds, REGION, endpoint_url=moto_server.endpoint_url)
    # moto runs in this process: the account's IAM gets the AWS managed policy the
    # provisioner attaches (AmazonEC2ContainerServiceforEC2Role).
    conn.client("sts").get_caller_identity()
    conn.client("iam").list_roles()
    load_aws_managed_policies(account)
    s3 = conn.client("s3")
    env = env_public(
        account_id=account,
        write_bucket=unique_name("write"),
        read_buckets=[ReadBucket(bucket=unique_name("read"))],
        head_queue=unique_name("head"),
        compute_queue=unique_name("tasks"),
        log_group=f"/aws/batch/{unique_name('job')}",
    )
    buckets = {env.write_bucket: cors.WRITE_METHODS, env.read_buckets[0].bucket: cors.READ_METHODS}
    for bucket, methods in buckets.items():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors.rules(ORIGIN, methods))
    s3.put_object(Bucket=env.read_buckets[0].bucket, Key="reads.fastq", Body=b"@r\nA\n+\nI\n")
    conn.client("logs").create_log_group(logGroupName=env.log_group)
    return Fresh(tenant=unique_name("t"), env=env, conn=conn, moto=moto_server)


def provisioner(fresh: Fresh) -> Provisioner:
    spec = ProvisionSpec(env=fresh.env, tenant=fresh.tenant, secrets=(SECRET,))
    return Provisioner(fresh.conn, spec, sleep=lambda _s: None)


def actions(report) -> dict[tuple[str, str], str]:
    return {(a.resource, a.name): a.action for a in report.actions}


def test_dry_run_plans_and_changes_nothing(fresh) -> None:
    tenant, env = fresh.tenant, fresh.env
    report = provisioner(fresh).run(dry_run=True)
    assert report.dry_run and report.changed
    planned = actions(report)
    resource_names = names.resource_names(tenant, env.name)
    assert planned[("IAM role", resource_names.instance_role)] == "create"
    assert planned[("compute environment", resource_names.compute_environment)] == "create"
    assert planned[("job queue", env.head_queue)] == "create"
    iam = fresh.conn.client("iam")
    assert not [
        r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"mantle-{tenant}")
    ]
    assert not fresh.conn.client("batch").describe_job_queues(jobQueues=[env.head_queue])[
        "jobQueues"
    ]


def test_provision_creates_tagged_resources_then_changes_nothing(fresh) -> None:
    tenant, env = fresh.tenant, fresh.env
    tags = {"mantle:tenant": tenant, "mantle:environment": env.name}
    first = provisioner(fresh).run(dry_run=False)
    assert first.changed and not first.dry_run
    assert {a.action for a in first.actions if a.resource != "service-linked role"} == {"create"}

    resource_names = names.resource_names(tenant, env.name)
    iam, batch, ec2 = (fresh.conn.client(s) for s in ("iam", "batch", "ec2"))
    role = iam.get_role(RoleName=resource_names.instance_role)["Role"]
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == tags
    assert iam.list_role_policies(RoleName=resource_names.instance_role)["PolicyNames"] == ["s3"]
    attached = iam.list_attached_role_policies(RoleName=resource_names.instance_role)
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "AmazonEC2ContainerServiceforEC2Role"
    ]
    head = iam.get_role(RoleName=resource_names.head_job_role)["Role"]
    assert "ecs-tasks.amazonaws.com" in json.dumps(head["AssumeRolePolicyDocument"])
    template = ec2.describe_launch_templates(LaunchTemplateNames=[resource_names.launch_template])
    assert {t["Key"]: t["Value"] for t in template["LaunchTemplates"][0]["Tags"]} == tags
    (ce,) = batch.describe_compute_environments(
        computeEnvironments=[resource_names.compute_environment]
    )["computeEnvironments"]
    resources = ce["computeResources"]
    assert (resources["minvCpus"], resources["instanceTypes"]) == (0, ["optimal"])
    assert resources["launchTemplate"]["launchTemplateName"] == resource_names.launch_template
    assert ce["tags"] == tags and resources["tags"] == tags
    queues = batch.describe_job_queues(jobQueues=list(env.queues))["jobQueues"]
    assert len(queues) == 2 and all(q["tags"] == tags and q["state"] == "ENABLED" for q in queues)

    second = provisioner(fresh).run(dry_run=False)
    assert not second.changed, [a for a in second.actions if a.action != "none"]
    assert {a.action for a in second.actions} == {"none"}


def test_provision_repairs_drift(fresh) -> None:
    tenant, env = fresh.tenant, fresh.env
    provisioner(fresh).run(dry_run=False)
    resource_names = names.resource_names(tenant, env.name)
    fresh.conn.client("batch").update_job_queue(jobQueue=env.head_queue, state="DISABLED")
    iam = fresh.conn.client("iam")
    iam.delete_role_policy(RoleName=resource_names.instance_role, PolicyName="s3")
    # What an older Mantle gave the hosts for amazon-ebs-autoscale goes away.
    volume_rights = {"Effect": "Allow", "Action": ["ec2:CreateVolume"], "Resource": "*"}
    iam.put_role_policy(
        RoleName=resource_names.instance_role,
        PolicyName="ebs-autoscale",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [volume_rights]}),
    )
    plan = provisioner(fresh).run(dry_run=True)
    assert actions(plan)[("job queue", env.head_queue)] == "update"
    role = [a for a in plan.actions if a.name == resource_names.instance_role][0]
    assert role.action == "update" and role.detail == "policy s3; delete policy ebs-autoscale"
    repaired = provisioner(fresh).run(dry_run=False)
    assert repaired.changed
    names_left = iam.list_role_policies(RoleName=resource_names.instance_role)["PolicyNames"]
    assert names_left == ["s3"]
    assert provisioner(fresh).run(dry_run=False).changed is False


def test_doctor_passes_on_what_the_provisioner_built(fresh) -> None:
    tenant, env = fresh.tenant, fresh.env
    provisioner(fresh).run(dry_run=False)
    checkup = doctor.Doctor(env=env, conn=fresh.conn, origin=ORIGIN, tenant=tenant)
    report = doctor.run(checkup)
    assert report.ok, [
        (c.name, c.message) for c in report.checks if c.status is not CheckStatus.passed
    ]


def test_refused_calls_become_cloud_errors_without_secrets(aws_setup) -> None:
    key_id, secret = read_only_key(aws_setup)
    env = aws_setup.env(head_queue=unique_name("head"))
    spec = ProvisionSpec(env=env, tenant=unique_name("t"), secrets=(secret, key_id))
    conn = aws_setup.connection(key_id, secret)
    with iam_enforced(aws_setup.moto.endpoint_url), pytest.raises(CloudError) as caught:
        Provisioner(conn, spec, sleep=lambda _s: None).run(dry_run=False)
    assert "AWS failed while" in caught.value.message and "AccessDenied" in caught.value.message
    assert "provisioner-policy.json" in caught.value.message  # how to fix it
    assert not caught.value.retryable
    printed = "".join(traceback.format_exception(caught.value))
    assert secret not in printed and key_id not in caught.value.message


def test_no_default_vpc_asks_for_subnets(moto_server) -> None:  # noqa: F811
    from mantle.aws.connect import connect
    from mantle.aws.session import AwsCredentials
    from mantle.errors import InvalidInputError

    env = env_public(region="ap-southeast-2", head_queue=unique_name("q"), compute_queue="x")
    conn = connect(AwsCredentials(), "ap-southeast-2", endpoint_url=moto_server.endpoint_url)
    ec2 = conn.client("ec2")
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]:
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
            "Subnets"
        ]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    with pytest.raises(InvalidInputError, match="--subnet"):
        Provisioner(conn, ProvisionSpec(env=env, tenant="acme")).run(dry_run=True)


def test_cors_rules_in_kit_satisfy_the_doctor() -> None:
    rules = cors.rules(ORIGIN, cors.WRITE_METHODS)["CORSRules"]
    assert cors.missing(rules, ORIGIN, cors.WRITE_METHODS, etag=True) == []
    assert cors.missing(rules, "https://evil.example", cors.READ_METHODS, etag=False)


def recorded_updates(made: Provisioner) -> list[dict]:
    """The UpdateComputeEnvironment requests `made` sends (moto accepts but ignores the
    computeResources of an update, so tests read the request)."""
    sent: list[dict] = []

    def record(params, **_kwargs):
        sent.append(params)

    made.batch.meta.events.register("provide-client-params.batch.UpdateComputeEnvironment", record)
    return sent


def test_a_new_launch_template_version_is_rolled_out(fresh) -> None:
    provisioner(fresh).run(dry_run=False)
    resource_names = names.resource_names(fresh.tenant, fresh.env.name)
    bigger = ProvisionSpec(env=fresh.env, tenant=fresh.tenant, docker_volume_gib=800)
    plan = Provisioner(fresh.conn, bigger, sleep=lambda _s: None).run(dry_run=True)
    details = {a.resource: a.detail for a in plan.actions if a.action != "none"}
    assert details["launch template"] == "new version (Docker volume)"
    assert "launch template version" in details["compute environment"]

    made = Provisioner(fresh.conn, bigger, sleep=lambda _s: None)
    sent = recorded_updates(made)
    made.run(dry_run=False)
    ec2 = fresh.conn.client("ec2")
    (template,) = ec2.describe_launch_templates(
        LaunchTemplateNames=[resource_names.launch_template]
    )["LaunchTemplates"]
    assert template["DefaultVersionNumber"] == 2
    (update,) = sent
    resources = update["computeResources"]
    assert resources["launchTemplate"] == {
        "launchTemplateName": resource_names.launch_template,
        "version": "2",
    }
    assert resources["updateToLatestImageVersion"] is True
    data = ec2.describe_launch_template_versions(
        LaunchTemplateName=resource_names.launch_template, Versions=["2"]
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 800
    # Omitting the size later keeps 800 rather than shrinking back to the default.
    again = actions(provisioner(fresh).run(dry_run=True))
    assert again[("launch template", resource_names.launch_template)] == "none"


def drifted_compute_environment(fresh: Fresh, **resources) -> None:
    """Our compute environment, made by hand before the provisioner ever ran."""
    iam, ec2 = fresh.conn.client("iam"), fresh.conn.client("ec2")
    other = unique_name("profile")
    profile = iam.create_instance_profile(InstanceProfileName=other)["InstanceProfile"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnet = ec2.describe_subnets(Filters=in_vpc)["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"][0]["GroupId"]
    iam.create_service_linked_role(AWSServiceName="batch.amazonaws.com")
    service_role = iam.list_roles(PathPrefix="/aws-service-role/batch.amazonaws.com/")["Roles"]
    fresh.conn.client("batch").create_compute_environment(
        computeEnvironmentName=names.resource_names(
            fresh.tenant, fresh.env.name
        ).compute_environment,
        type="MANAGED",
        state="DISABLED",
        serviceRole=service_role[0]["Arn"],
        computeResources={
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "minvCpus": 2,
            "maxvCpus": 16,
            "instanceTypes": ["m5.large"],
            "subnets": [subnet],
            "securityGroupIds": [group],
            "instanceRole": profile["Arn"],
            **resources,
        },
    )


def test_compute_environment_drift_is_planned_then_updated_in_place(fresh) -> None:
    drifted_compute_environment(fresh)
    plan = provisioner(fresh).run(dry_run=True)
    (ce,) = [a for a in plan.actions if a.resource == "compute environment"]
    assert ce.action == "update"
    for change in (
        "update it to ENABLED",
        "min vCPUs",
        "instance types",
        "instance profile",
        "image type",
        "launch template version",
    ):
        assert change in ce.detail, change
    assert "max vCPUs" not in ce.detail  # not asked for: kept

    made = provisioner(fresh)
    sent = recorded_updates(made)
    made.run(dry_run=False)
    (update,) = sent
    assert update["state"] == "ENABLED"
    resources = update["computeResources"]
    assert resources["minvCpus"] == 0 and resources["instanceTypes"] == ["optimal"]
    assert resources["ec2Configuration"] == [{"imageType": "ECS_AL2"}]
    assert resources["instanceRole"].endswith(
        "/" + names.resource_names(fresh.tenant, fresh.env.name).instance_role
    )
    assert resources["launchTemplate"]["version"] == "1"
    assert resources["updateToLatestImageVersion"] is True


def test_drift_batch_cannot_update_in_place_is_reported_as_replace(fresh) -> None:
    drifted_compute_environment(fresh, allocationStrategy="BEST_FIT")
    made = provisioner(fresh)
    sent = recorded_updates(made)
    report = made.run(dry_run=False)
    (ce,) = [a for a in report.actions if a.resource == "compute environment"]
    assert ce.action == "replace" and report.changed
    assert "needs replacement to change" in ce.detail and "BEST_FIT" in ce.detail
    # Only what a scaling update can do is done; the hosts' setup is left for the replacement.
    (update,) = sent
    assert update["state"] == "ENABLED"
    assert set(update["computeResources"]) == {"minvCpus"}
