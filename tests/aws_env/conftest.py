"""Fixtures for AWS environment tests: the shared moto server, settings that send every AWS
call of environments there (`MANTLE_AWS__ENDPOINT_URL`), and `aws_setup`, a complete and
correct customer setup in moto (buckets with CORS, instance profile, launch template, compute
environment, job queue, log group) that single tests then break in one way each."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pytest

from mantle.aws.connect import AwsConnection, connect
from mantle.aws.session import AwsCredentials
from mantle.cloud.aws import compute, cors, names, policies, userdata
from mantle.schemas.environments import CredentialsPublic, EnvironmentPublic, ReadBucket
from mantle.settings import Settings
from tests.aws import REGION, MotoServer, moto_server, unique_name  # noqa: F401
from tests.conftest import make_settings

ACCOUNT = "123456789012"  # moto's account
PRINCIPAL = "arn:aws:iam::999999999999:role/mantle-server"
ORIGIN = "http://testserver"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRETzz"
KEY_ID = "AKIAMANTLETEST0KEY42"

# A head-job image built from docker/head-job.Dockerfile (the doctor fails the stock Nextflow one).
HEAD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mantle-head-job:0.1.0"


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server) -> Settings:  # noqa: F811
    return make_settings(
        tmp_path,
        migrated_url,
        public_url=ORIGIN,
        aws={"endpoint_url": moto_server.endpoint_url, "platform_principal_arn": PRINCIPAL},
    )


def env_public(**overrides) -> EnvironmentPublic:
    """An environment as the services see it, for tests that need no database."""
    now = datetime.now(UTC)
    fields = {
        "id": uuid.uuid4(),
        "name": "prod",
        "region": REGION,
        "account_id": ACCOUNT,
        "is_default": True,
        "credentials": CredentialsPublic(kind="keys", access_key_id_last4="EY42"),
        "write_bucket": "acme-mantle",
        "write_prefix": "mantle",
        "read_buckets": [ReadBucket(bucket="acme-raw", prefix="runs/2024")],
        "head_queue": "mantle-head",
        "compute_queue": "mantle-compute",
        "head_image": HEAD_IMAGE,
        "head_vcpus": 2,
        "head_memory_mib": 4096,
        "cli_path": "/miniconda/bin/aws",
        "nextflow_config": "",
        "log_group": "/aws/batch/job",
        "use_ecr": False,
        "created_at": now,
        "updated_at": now,
    }
    fields.update(overrides)
    return EnvironmentPublic(**fields)


@dataclass
class AwsSetup:
    moto: MotoServer
    write_bucket: str
    read_bucket: str
    queue: str
    compute_environment: str
    log_group: str
    _connections: dict[tuple[str, str], AwsConnection] = field(default_factory=dict, repr=False)

    def env(self, **overrides) -> EnvironmentPublic:
        fields = {
            "write_bucket": self.write_bucket,
            "read_buckets": [ReadBucket(bucket=self.read_bucket, prefix="raw")],
            "head_queue": self.queue,
            "compute_queue": self.queue,
            "log_group": self.log_group,
        }
        return env_public(**{**fields, **overrides})

    def body(self, name: str = "prod", **overrides) -> dict:
        """The API body creating this environment with access keys."""
        body = {
            "name": name,
            "region": REGION,
            "account_id": ACCOUNT,
            "credentials": {"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
            "write_bucket": self.write_bucket,
            "write_prefix": "mantle",
            "read_buckets": [{"bucket": self.read_bucket, "prefix": "raw"}],
            "head_queue": self.queue,
            "head_image": HEAD_IMAGE,
            "log_group": self.log_group,
        }
        return {**body, **overrides}

    def connection(self, key_id: str = KEY_ID, secret: str = SECRET) -> AwsConnection:
        """One connection per key, reused as the server reuses an environment's: a new
        session parses botocore's models again, a tenth of a second per client."""
        if (key_id, secret) not in self._connections:
            creds = AwsCredentials(access_key_id=key_id, secret_access_key=secret)
            conn = connect(creds, REGION, endpoint_url=self.moto.endpoint_url)
            self._connections[key_id, secret] = conn
        return self._connections[key_id, secret]


@pytest.fixture
def aws_setup(moto_server) -> AwsSetup:  # noqa: F811
    """A correct setup, as the setup kit describes it, with unique names."""
    setup = AwsSetup(
        moto=moto_server,
        write_bucket=unique_name("write"),
        read_bucket=unique_name("read"),
        queue=unique_name("queue"),
        compute_environment=unique_name("ce"),
        log_group=f"/aws/batch/{unique_name('job')}",
    )
    _buckets(moto_server, setup)
    _batch(moto_server, setup)
    moto_server.client("logs").create_log_group(logGroupName=setup.log_group)
    return setup


def _buckets(moto: MotoServer, setup: AwsSetup) -> None:
    s3 = moto.client("s3")
    buckets = {setup.write_bucket: cors.WRITE_METHODS, setup.read_bucket: cors.READ_METHODS}
    for bucket, methods in buckets.items():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors.rules(ORIGIN, methods))
    s3.put_object(Bucket=setup.read_bucket, Key="raw/sample.fastq", Body=b"@r1\nACGT\n+\nIIII\n")


ECS_INSTANCE_POLICY_ARN = f"arn:aws:iam::aws:policy/{policies.ECS_INSTANCE_MANAGED_POLICY}"


def load_aws_managed_policies(account: str = ACCOUNT) -> None:
    """Give an account of the shared moto server AWS's ECS instance policy, the one managed
    policy Mantle attaches. moto would load all of AWS's ~1,500 (MOTO_IAM_LOAD_MANAGED_POLICIES)
    into each new account, a second of CPU each time, and only before its first IAM call."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account]["global"]
    if ECS_INSTANCE_POLICY_ARN not in backend.managed_policies:
        name = ECS_INSTANCE_POLICY_ARN.rsplit("/", 1)[1]
        policy = AWSManagedPolicy.from_data(name, account, REGION, _managed_policy_data(name))
        backend.managed_policies[policy.arn] = policy


@cache
def _managed_policy_data(name: str) -> dict:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)[name]


def _batch(moto: MotoServer, setup: AwsSetup) -> None:
    """The Batch side as the kit describes it: the queue on its compute environment, and the
    instance role's and the head job's rights."""
    iam, env, name = moto.client("iam"), setup.env(), setup.compute_environment
    compute_queue(moto, env, name, setup.queue)
    s3_rights = policies.instance_s3_policy(env, policies.Arns(REGION, ACCOUNT))
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=json.dumps(s3_rights))
    load_aws_managed_policies()
    iam.attach_role_policy(RoleName=name, PolicyArn=ECS_INSTANCE_POLICY_ARN)
    head_job_role(iam, env)


def compute_queue(moto: MotoServer, env: EnvironmentPublic, name: str, queue: str) -> None:
    """Job queue `queue` on a managed compute environment `name` (ECS_AL2, the launch
    template's version 1) in the default VPC, with its instance role and profile (no rights
    yet) and service role, all named `name`."""
    iam, ec2, batch = moto.client("iam"), moto.client("ec2"), moto.client("batch")
    trust = policies.service_trust_policy("ec2.amazonaws.com")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    service_role = iam.create_role(
        RoleName=f"{name}-service", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData=userdata.launch_template_data(env, "acme")
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnet = ec2.describe_subnets(Filters=in_vpc)["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"][0]["GroupId"]
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        state="ENABLED",
        serviceRole=service_role,
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 16,
            "instanceTypes": ["optimal"],
            "subnets": [subnet],
            "securityGroupIds": [group],
            "instanceRole": profile["Arn"],
            "ec2Configuration": compute.ec2_configuration(),
            "launchTemplate": {"launchTemplateName": name, "version": "1"},
        },
    )
    batch.create_job_queue(
        jobQueueName=queue,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}],
    )


def head_job_role(iam, env: EnvironmentPublic, tenant: str = "acme") -> None:
    """The role `tenant`'s head jobs run as, with the kit's rights for this setup's buckets
    and queue (one role name per account: its policy is set anew for each setup)."""
    role = names.resource_names(tenant, env.name).head_job_role
    trust = policies.service_trust_policy("ecs-tasks.amazonaws.com")
    try:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    rights = policies.head_job_policy(env, policies.Arns(REGION, ACCOUNT))
    iam.put_role_policy(
        RoleName=role, PolicyName="nextflow-head-job", PolicyDocument=json.dumps(rights)
    )
