"""The setup kit (pure): every document parses, `parliament` finds nothing in the policies,
`cfn-lint` passes the CloudFormation template, and the documents say what the guide asks for
and no more."""

from __future__ import annotations

import email
import json
import subprocess
import warnings

import pytest
import yaml

from mantle.cloud.aws import names, setup_kit, userdata
from mantle.schemas.environments import CredentialsPublic, ReadBucket
from tests.aws_env.conftest import ACCOUNT, ORIGIN, PRINCIPAL, env_public

EXTERNAL_ID = "mantle-0123456789abcdef"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/teams/mantle-acme"
CREDENTIALS = {
    "role": CredentialsPublic(kind="role", role_arn=ROLE, external_id=EXTERNAL_ID),
    "keys": CredentialsPublic(kind="keys", access_key_id_last4="EY42", has_secret_key=True),
    "server": CredentialsPublic(kind="server"),
}


def kit(kind: str = "role", principal: str | None = PRINCIPAL, **env) -> dict[str, str]:
    context = setup_kit.KitContext("acme", EXTERNAL_ID, ORIGIN, principal)
    return setup_kit.build(env_public(credentials=CREDENTIALS[kind], **env), context)


def policies_of(files: dict[str, str]) -> dict[str, dict]:
    return {name: json.loads(text) for name, text in files.items() if name.endswith("policy.json")}


def statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def parliament_findings(policy: dict, *, trust: bool) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources
        from parliament import analyze_policy_string
    if trust:
        # parliament audits identity policies; a trust policy's resource is the role itself.
        policy = {**policy, "Statement": [{**s, "Resource": ROLE} for s in policy["Statement"]]}
    return analyze_policy_string(json.dumps(policy)).findings


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
def test_every_document_parses(kind) -> None:
    files = kit(kind, use_ecr=True)
    for name, text in files.items():
        if name.endswith(".json"):
            json.loads(text)
        elif name.endswith(".yaml"):
            yaml.safe_load(text)
    assert {
        "platform-policy.json",
        "cloudformation.yaml",
        "cors-write-bucket.json",
        "launch-template-user-data.txt",
        "README.md",
    } <= set(files)


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
@pytest.mark.parametrize("use_ecr", [False, True])
def test_parliament_finds_nothing(kind, use_ecr) -> None:
    found = policies_of(kit(kind, use_ecr=use_ecr))
    assert "platform-trust-policy.json" in found
    for name, policy in found.items():
        findings = parliament_findings(policy, trust="trust" in name)
        assert not findings, (name, [(f.issue, f.detail) for f in findings])


@pytest.mark.parametrize("kind", sorted(CREDENTIALS))
def test_cfn_lint_passes_the_template(kind) -> None:
    import cfnlint.api

    for region in ("us-east-1", "eu-west-1"):
        template = kit(kind, region=region)["cloudformation.yaml"]
        matches = cfnlint.api.lint(template, regions=[region])
        assert not matches, [str(m) for m in matches]


def test_platform_policy_is_scoped_to_the_prefixes() -> None:
    policy = policies_of(kit())["platform-policy.json"]
    found = statements(policy)
    assert found["ListAllBuckets"]["Action"] == ["s3:ListAllMyBuckets"]
    assert found["WriteBucket"]["Resource"] == "arn:aws:s3:::acme-mantle/mantle/*"
    assert set(found["WriteBucket"]["Action"]) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    listing = found["ListWriteBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["mantle/*"]}}
    assert found["ReadBucket1"] == {
        "Sid": "ReadBucket1",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::acme-raw/runs/2024/*",
    }
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not [a for a in actions if a.endswith("*")], "no wildcard actions"
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_platform_policy_names_the_log_group_queue_and_role_of_this_environment() -> None:
    found = statements(policies_of(kit(region="eu-west-1"))["platform-policy.json"])
    group = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/batch/job"
    assert "logs:GetLogEvents" in found["ReadJobLogs"]["Action"]
    assert f"{group}:log-stream:*" in found["ReadJobLogs"]["Resource"]
    submit = found["BatchSubmitHeadJobs"]["Resource"]
    assert f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-queue/mantle-head" in submit
    assert f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-definition/mantle-*" in submit
    head_role = names.resource_names("acme", "prod").head_job_role
    assert found["PassHeadJobRole"]["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/{head_role}"
    assert "EcrDescribe" not in found


def test_platform_policy_tags_its_jobs_and_only_describes_ecr() -> None:
    found = statements(policies_of(kit())["platform-policy.json"])
    tagging = found["BatchTagOwnJobs"]
    assert tagging["Action"] == ["batch:TagResource"]
    assert f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/mantle-*" in tagging["Resource"]
    with_ecr = statements(policies_of(kit(use_ecr=True))["platform-policy.json"])
    ecr_actions = {a for s in with_ecr.values() for a in s["Action"] if a.startswith("ecr:")}
    # Pulling is the hosts' (AmazonEC2ContainerServiceforEC2Role); the platform only looks.
    assert ecr_actions == {
        "ecr:GetAuthorizationToken",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:ListImages",
    }


def test_platform_policy_lets_the_doctor_read_the_host_and_head_job_roles_only() -> None:
    found = statements(policies_of(kit())["platform-policy.json"])
    made = names.resource_names("acme", "prod")
    role = made.instance_role
    assert found["ReadHostRole"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/{role}",
        f"arn:aws:iam::{ACCOUNT}:role/{made.head_job_role}",
    ]
    assert all(a.startswith(("iam:Get", "iam:List")) for a in found["ReadHostRole"]["Action"])
    assert found["ReadHostProfile"]["Resource"].endswith(f":instance-profile/{role}")


def test_a_bucket_without_prefix_is_granted_whole() -> None:
    files = kit(write_prefix="", read_buckets=[ReadBucket(bucket="acme-raw")])
    found = statements(policies_of(files)["platform-policy.json"])
    assert found["WriteBucket"]["Resource"] == "arn:aws:s3:::acme-mantle/*"
    assert "Condition" not in found["ListWriteBucket"]


def test_trust_policy_requires_the_external_id() -> None:
    trust = policies_of(kit())["platform-trust-policy.json"]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": PRINCIPAL}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    assert "platform-trust-policy.json" not in kit(principal=None)
    assert "MANTLE_AWS__PLATFORM_PRINCIPAL_ARN" in kit(principal=None)["README.md"]


def test_instance_role_gets_s3_and_no_ec2_rights() -> None:
    files = kit()
    found = policies_of(files)
    s3 = statements(found["instance-role-s3-policy.json"])
    assert "ListAllBuckets" not in s3 and "WriteBucket" in s3
    # No volume daemon any more: the hosts need no EC2 rights at all.
    assert not [name for name in files if "ebs" in name]
    template = yaml.safe_load(files["cloudformation.yaml"])
    inline = template["Resources"]["InstanceRole"]["Properties"]["Policies"]
    assert [p["PolicyName"] for p in inline] == ["s3"]
    assert "ec2:" not in json.dumps(inline)


def test_cors_rules_for_the_public_origin() -> None:
    files = kit()
    (write,) = json.loads(files["cors-write-bucket.json"])["CORSRules"]
    assert write["AllowedOrigins"] == [ORIGIN]
    assert write["AllowedMethods"] == ["GET", "PUT", "POST"]
    assert write["ExposeHeaders"] == ["ETag"]
    (read,) = json.loads(files["cors-read-buckets.json"])["CORSRules"]
    assert read["AllowedMethods"] == ["GET"] and read["AllowedOrigins"] == [ORIGIN]


def user_data_parts(files: dict[str, str]) -> dict[str, str]:
    message = email.message_from_string(files["launch-template-user-data.txt"])
    assert message.is_multipart()
    return {part.get_content_type(): part.get_payload() for part in message.get_payload()}


def test_user_data_mounts_docker_storage_then_installs_the_cli() -> None:
    parts = user_data_parts(kit())
    assert list(parts) == ["text/cloud-boothook", "text/x-shellscript"]
    boothook, cli = parts.values()
    # Docker's volume comes from the launch template, before Docker starts: no volume daemon,
    # no IMDS call (the launch template requires IMDSv2 tokens), no CLI needed for it.
    assert "mount -o noatime LABEL=mantle-docker /var/lib/docker" in boothook
    assert "ebs-autoscale" not in boothook + cli and "169.254.169.254" not in boothook + cli
    assert "ConditionPathExists=/var/lib/mantle/host-ready" in boothook
    assert "bash /tmp/miniconda.sh -b -f -p /miniconda" in cli
    assert f"Miniconda3-{userdata.MINICONDA_VERSION}-Linux-$arch.sh" in cli
    assert userdata.MINICONDA_SHA256["x86_64"] in cli and "sha256sum --check" in cli
    assert f'"awscli=={userdata.AWSCLI_VERSION}"' in cli
    assert "ln -sf /miniconda/bin/aws /usr/local/bin/aws" in cli
    order = [cli.index(step) for step in ("sha256sum", "bash /tmp/miniconda.sh", "--version")]
    assert order == sorted(order) and cli.index("touch /var/lib/mantle/host-ready") > order[-1]
    assert cli.rstrip().endswith("systemctl enable --now --no-block ecs.service")
    for script in (boothook, cli):
        assert "set -euo pipefail" in script and "shutdown -h now" in script
    custom = user_data_parts(kit(cli_path="/opt/conda/bin/aws"))["text/x-shellscript"]
    assert "-p /opt/conda" in custom and "ln -sf /opt/conda/bin/aws" in custom


def test_user_data_scripts_are_valid_bash(tmp_path) -> None:
    for content_type, script in user_data_parts(kit()).items():
        path = tmp_path / content_type.replace("/", "-")
        path.write_text(script)
        checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, (content_type, checked.stderr)


def test_launch_template_json_carries_the_user_data_and_tags() -> None:
    import base64

    template = json.loads(kit()["launch-template.json"])
    data = template["LaunchTemplateData"]
    assert base64.b64decode(data["UserData"]).decode() == kit()["launch-template-user-data.txt"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    (volume,) = data["BlockDeviceMappings"]
    assert volume == {
        "DeviceName": userdata.DATA_DEVICE,
        "Ebs": {
            "VolumeSize": 500,
            "VolumeType": "gp3",
            "Encrypted": True,
            "DeleteOnTermination": True,
        },
    }
    assert {"Key": "mantle:environment", "Value": "prod"} in data["TagSpecifications"][0]["Tags"]


def test_cloudformation_template_shape() -> None:
    template = yaml.safe_load(kit(compute_queue="mantle-compute")["cloudformation.yaml"])
    resources = template["Resources"]
    ce = resources["ComputeEnvironment"]["Properties"]
    assert ce["Type"] == "MANAGED" and ce["ComputeResources"]["MinvCpus"] == 0
    assert ce["ComputeResources"]["InstanceTypes"] == ["optimal"]
    assert ce["Tags"] == {"mantle:tenant": "acme", "mantle:environment": "prod"}
    assert ce["ComputeResources"]["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": "LaunchTemplate"}
    assert ce["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2"}]
    assert ce["ComputeResources"]["AllocationStrategy"] == "BEST_FIT_PROGRESSIVE"
    assert ce["ComputeResources"]["UpdateToLatestImageVersion"] is True
    assert ce["ReplaceComputeEnvironment"] is False
    template_data = resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    (volume,) = template_data["BlockDeviceMappings"]
    assert volume["Ebs"]["VolumeSize"] == {"Ref": "DockerVolumeGiB"}
    assert template["Parameters"]["DockerVolumeGiB"]["Default"] == 500
    assert "NAT gateway" in template["Parameters"]["SubnetIds"]["Description"]
    queues = {
        r["Properties"]["JobQueueName"]
        for r in resources.values()
        if r["Type"] == "AWS::Batch::JobQueue"
    }
    assert queues == {"mantle-head", "mantle-compute"}
    assert resources["WriteBucket"]["Condition"] == "CreateWriteBucket"
    assert resources["PlatformRole"]["Properties"]["RoleName"] == "mantle-acme"
    assert resources["PlatformRole"]["Properties"]["Path"] == "/teams/"
    assert template["Parameters"]["PlatformPrincipalArn"]["Default"] == PRINCIPAL
    assert {"SubnetIds", "SecurityGroupIds", "MaxVCpus", "CreateWriteBucket"} <= set(
        template["Parameters"]
    )
    assert {"ComputeEnvironmentArn", "JobQueueArn", "PlatformRoleArn", "ExternalId"} <= set(
        template["Outputs"]
    )
    assert "PlatformUser" in yaml.safe_load(kit("keys")["cloudformation.yaml"])["Resources"]


def test_nextflow_config_uses_the_cli_path() -> None:
    config = kit(nextflow_config="process.errorStrategy = 'retry'")["nextflow.config"]
    assert "aws.batch.cliPath = '/miniconda/bin/aws'" in config
    assert "workDir = 's3://acme-mantle/mantle/work'" in config
    assert "process.errorStrategy = 'retry'" in config


def test_long_names_stay_within_aws_limits() -> None:
    long = names.resource_names("t" * 63, "e" * 63)
    assert len(long.instance_role) <= 64 and len(long.head_job_role) <= 64
    assert long.instance_role != long.head_job_role
    assert names.resource_names("t" * 63, "e" * 63) == long
