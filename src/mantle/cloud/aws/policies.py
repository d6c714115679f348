"""IAM policy documents for an environment, built from its values (pure: no I/O).

Least privilege, narrower than the usual vendor guides where nothing needs the breadth:
object rights stop at the environment's prefixes (listing too, through `s3:prefix`); Batch
submission names the head queue and `mantle-*` job definitions; logs name one log group; the
Batch hosts get S3 rights and AWS's ECS instance policy, and no EC2 rights (Docker's data
volume comes from the launch template, see `userdata`).

ECR: pulling an image takes ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability,
ecr:GetDownloadUrlForLayer and ecr:BatchGetImage, and it is the Batch host (the ECS agent,
with the instance role) that pulls. AmazonEC2ContainerServiceforEC2Role, attached to the
instance role, grants exactly those. The platform principal pulls nothing: with `use_ecr` it
gets a login token and read-only describe/list rights, for the doctor and to check images.
`Arns.account` may be `${AWS::AccountId}`: the CloudFormation template reuses these builders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from mantle.cloud.aws import names as naming
from mantle.schemas.environments import EnvironmentPublic

Policy = dict[str, Any]
Statement = dict[str, Any]
VERSION = "2012-10-17"
ECS_INSTANCE_MANAGED_POLICY = "service-role/AmazonEC2ContainerServiceforEC2Role"
OBJECT_READ = ["s3:GetObject"]
OBJECT_WRITE = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
BATCH_DESCRIBE = [
    "batch:DescribeComputeEnvironments",
    "batch:DescribeJobDefinitions",
    "batch:DescribeJobQueues",
    "batch:DescribeJobs",
    "batch:ListJobs",
]
ECR_DESCRIBE = ["ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:ListImages"]
# What the doctor reads about the Batch hosts' role, profile and launch template.
HOST_ROLE_READ = [
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def of(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    def bucket(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    def objects(self, bucket: str, prefix: str) -> str:
        return f"{self.bucket(bucket)}/{prefix}/*" if prefix else f"{self.bucket(bucket)}/*"

    def role(self, name: str, path: str = "/") -> str:
        return self.of("iam", f"role{path}{name}", regional=False)

    def instance_profile(self, name: str) -> str:
        return self.of("iam", f"instance-profile/{name}", regional=False)

    def log_group(self, group: str) -> str:
        return self.of("logs", f"log-group:{group}")


def policy(*statements: Statement) -> Policy:
    return {"Version": VERSION, "Statement": list(statements)}


def allow(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


# --- S3 ------------------------------------------------------------------------------------


def _listing(sid: str, arns: Arns, bucket: str, prefix: str) -> Statement:
    statement = allow(sid, ["s3:ListBucket"], arns.bucket(bucket))
    if prefix:
        statement["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}/*"]}}
    return statement


def s3_data_statements(env: EnvironmentPublic, arns: Arns) -> list[Statement]:
    """Read on each read bucket's prefix; read, write, delete and multipart on the write
    bucket's prefix. Shared by the platform principal, the instance role and the head job."""
    statements = []
    for number, read in enumerate(env.read_buckets, start=1):
        statements.append(_listing(f"ListReadBucket{number}", arns, read.bucket, read.prefix))
        statements.append(
            allow(f"ReadBucket{number}", OBJECT_READ, arns.objects(read.bucket, read.prefix))
        )
    write_bucket, prefix = env.write_bucket, env.write_prefix
    statements.append(_listing("ListWriteBucket", arns, write_bucket, prefix))
    statements.append(
        allow(
            "ListWriteBucketUploads", ["s3:ListBucketMultipartUploads"], arns.bucket(write_bucket)
        )
    )
    statements.append(allow("WriteBucket", OBJECT_WRITE, arns.objects(write_bucket, prefix)))
    return statements


def _all_buckets(env: EnvironmentPublic) -> list[str]:
    return list(dict.fromkeys([env.write_bucket, *(r.bucket for r in env.read_buckets)]))


# --- the platform principal ----------------------------------------------------------------


def platform_policy(env: EnvironmentPublic, arns: Arns, names: naming.ResourceNames) -> Policy:
    """What the Mantle server does in the customer's account: data in S3, the head job on
    Batch, its logs, and (optionally) reading images from ECR."""
    bucket_arns = [arns.bucket(b) for b in _all_buckets(env)]
    job_definitions = arns.of("batch", f"job-definition/{naming.PLATFORM_JOB_DEFINITION_PREFIX}*")
    jobs = arns.of("batch", "job/*")
    statements = [
        allow("ListAllBuckets", ["s3:ListAllMyBuckets"], "*"),
        allow("BucketSettings", ["s3:GetBucketLocation", "s3:GetBucketCORS"], bucket_arns),
        *s3_data_statements(env, arns),
        allow("BatchDescribe", BATCH_DESCRIBE, "*"),
        allow(
            "BatchSubmitHeadJobs",
            ["batch:SubmitJob"],
            [jobs, arns.of("batch", f"job-queue/{env.head_queue}"), job_definitions],
        ),
        allow(
            "BatchJobDefinitions",
            ["batch:RegisterJobDefinition", "batch:DeregisterJobDefinition"],
            job_definitions,
        ),
        allow("BatchStopJobs", ["batch:CancelJob", "batch:TerminateJob"], jobs),
        # SubmitJob and RegisterJobDefinition with tags need TagResource on what they create.
        allow("BatchTagOwnJobs", ["batch:TagResource"], [jobs, job_definitions]),
        allow("PassHeadJobRole", ["iam:PassRole"], arns.role(names.head_job_role)),
        *doctor_read_statements(arns, names),
        allow(
            "ReadJobLogs",
            ["logs:DescribeLogStreams", "logs:GetLogEvents"],
            [f"{arns.log_group(env.log_group)}:*", f"{arns.log_group(env.log_group)}:log-stream:*"],
        ),
    ]
    if env.use_ecr:
        statements += ecr_read_statements(arns)
    return policy(*statements)


def doctor_read_statements(arns: Arns, names: naming.ResourceNames) -> list[Statement]:
    """The doctor reads the Batch hosts' role and profile, the head jobs' role and the launch
    templates (never writes)."""
    return [
        allow(
            "ReadHostRole",
            HOST_ROLE_READ,
            [arns.role(names.instance_role), arns.role(names.head_job_role)],
        ),
        allow(
            "ReadHostRolePolicies",
            ["iam:GetPolicy", "iam:GetPolicyVersion"],
            arns.of("iam", "policy/*", regional=False),
        ),
        allow(
            "ReadHostProfile",
            ["iam:GetInstanceProfile"],
            arns.instance_profile(names.instance_role),
        ),
        # EC2's Describe actions take no resource-level permissions.
        allow("ReadLaunchTemplates", ["ec2:DescribeLaunchTemplateVersions"], "*"),
    ]


def ecr_read_statements(arns: Arns) -> list[Statement]:
    """A login token and read-only describe/list; pulling is the hosts' (see the top)."""
    return [
        allow("EcrLogin", ["ecr:GetAuthorizationToken"], "*"),
        allow("EcrDescribe", ECR_DESCRIBE, arns.of("ecr", "repository/*")),
    ]


def platform_trust_policy(principal_arn: Any, external_id: str) -> Policy:
    """Lets the Mantle server's identity assume the platform role, only with the tenant's
    external id (so another Mantle tenant cannot point the server at this role).
    `principal_arn` is an ARN, or a CloudFormation reference to one."""
    return policy(
        {
            "Sid": "MantlePlatform",
            "Effect": "Allow",
            "Principal": {"AWS": principal_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )


# --- Batch hosts and the head job ----------------------------------------------------------


def service_trust_policy(service: str) -> Policy:
    return policy(
        {
            "Sid": "AssumedBy" + service.split(".")[0].title().replace("-", ""),
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
    )


def instance_s3_policy(env: EnvironmentPublic, arns: Arns) -> Policy:
    """What the Batch hosts (and every task container on them) may do in S3."""
    return policy(*s3_data_statements(env, arns))


def instance_inline_policies(env: EnvironmentPublic, arns: Arns) -> dict[str, Policy]:
    """The instance role's inline policies by name (next to ECS_INSTANCE_MANAGED_POLICY)."""
    return {"s3": instance_s3_policy(env, arns)}


def head_job_policy(env: EnvironmentPublic, arns: Arns) -> Policy:
    """The Nextflow head job: submits and watches its tasks on the compute queue, reads their
    logs, and works in S3 like the hosts do."""
    task_definitions = arns.of("batch", f"job-definition/{naming.NEXTFLOW_JOB_DEFINITION_PREFIX}*")
    jobs = arns.of("batch", "job/*")
    return policy(
        allow("BatchDescribe", BATCH_DESCRIBE, "*"),
        allow(
            "SubmitTasks",
            ["batch:SubmitJob"],
            [jobs, arns.of("batch", f"job-queue/{env.compute_queue}"), task_definitions],
        ),
        allow("RegisterTaskDefinitions", ["batch:RegisterJobDefinition"], task_definitions),
        allow("StopTasks", ["batch:CancelJob", "batch:TerminateJob"], jobs),
        allow("DescribeTaskHosts", ["ec2:DescribeInstanceTypes", "ec2:DescribeInstances"], "*"),
        allow(
            "DescribeTaskHostAttributes",
            ["ec2:DescribeInstanceAttribute"],
            arns.of("ec2", "instance/*"),
        ),
        allow(
            "DescribeEcsTasks",
            ["ecs:DescribeContainerInstances", "ecs:DescribeTasks"],
            [arns.of("ecs", "task/*"), arns.of("ecs", "container-instance/*")],
        ),
        allow(
            "ReadTaskLogs",
            ["logs:GetLogEvents"],
            f"{arns.log_group(env.log_group)}:log-stream:*",
        ),
        *s3_data_statements(env, arns),
    )


# --- the provisioner -----------------------------------------------------------------------


def provisioner_policy(env: EnvironmentPublic, arns: Arns, names: naming.ResourceNames) -> Policy:
    """What `mantle aws provision` needs on top of the platform policy, limited to the
    resources it creates. It can rewrite those roles' policies, so attach it for the run and
    detach it after (or deploy cloudformation.yaml yourself instead)."""
    roles = [arns.role(names.instance_role), arns.role(names.head_job_role)]
    batch_role = arns.role("AWSServiceRoleForBatch", "/aws-service-role/batch.amazonaws.com/")
    profile = arns.instance_profile(names.instance_role)
    templates = arns.of("ec2", "launch-template/*")
    ecs_policy = f"arn:{arns.partition}:iam::aws:policy/{ECS_INSTANCE_MANAGED_POLICY}"
    batch = [arns.of("batch", f"compute-environment/{names.compute_environment}")]
    batch += [arns.of("batch", f"job-queue/{queue}") for queue in env.queues]
    role_actions = [
        "iam:CreateRole",
        "iam:DeleteRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UpdateAssumeRolePolicy",
    ]
    return policy(
        allow("MantleRoles", role_actions, roles),
        allow(
            "AttachEcsInstancePolicy",
            ["iam:AttachRolePolicy"],
            roles[0],
            Condition={"ArnEquals": {"iam:PolicyARN": ecs_policy}},
        ),
        allow("PassMantleRoles", ["iam:PassRole"], [*roles, batch_role]),
        allow(
            "InstanceProfile",
            [
                "iam:AddRoleToInstanceProfile",
                "iam:CreateInstanceProfile",
                "iam:GetInstanceProfile",
                "iam:TagInstanceProfile",
            ],
            profile,
        ),  # fmt: skip
        allow("FindBatchServiceRole", ["iam:ListRoles"], "*"),
        allow(
            "CreateBatchServiceRole",
            ["iam:CreateServiceLinkedRole"],
            batch_role,
            Condition={"StringEquals": {"iam:AWSServiceName": "batch.amazonaws.com"}},
        ),
        allow(
            "DescribeNetworkAndTemplates",
            [
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            "*",
        ),  # fmt: skip
        allow(
            "LaunchTemplates",
            [
                "ec2:CreateLaunchTemplate",
                "ec2:CreateLaunchTemplateVersion",
                "ec2:CreateTags",
                "ec2:ModifyLaunchTemplate",
            ],
            templates,
        ),  # fmt: skip
        allow("BatchDescribe", BATCH_DESCRIBE, "*"),
        allow(
            "BatchResources",
            [
                "batch:CreateComputeEnvironment",
                "batch:CreateJobQueue",
                "batch:TagResource",
                "batch:UpdateComputeEnvironment",
                "batch:UpdateJobQueue",
            ],
            batch,
        ),  # fmt: skip
    )


# --- reading live policies -----------------------------------------------------------------


def parse_document(value: Any) -> dict | None:
    """IAM returns policy documents as dicts or URL-encoded JSON, depending on the client."""
    if value is None or isinstance(value, dict):
        return value
    return json.loads(unquote(value))


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def uncovered(required: Policy, granted: list[Policy]) -> list[str]:
    """`action on resource` pairs of `required` that no Allow statement of `granted` names
    (IAM wildcards honoured; conditions and Deny statements are not evaluated)."""
    allows = [
        statement
        for document in granted
        for statement in _listed(document.get("Statement", []))
        if statement.get("Effect") == "Allow"
    ]

    def allowed(action: str, resource: str) -> bool:
        return any(
            any(fnmatchcase(action.lower(), a.lower()) for a in _listed(s.get("Action", [])))
            and any(fnmatchcase(resource, r) for r in _listed(s.get("Resource", [])))
            for s in allows
        )

    return [
        f"{action} on {resource}"
        for statement in required["Statement"]
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
        if not allowed(action, resource)
    ]
