"""One CloudFormation template for a whole environment (pure): the platform principal's
policy (and its role or user), the Batch instance role and profile, the head job role, the
launch template, a managed EC2 compute environment (0 vCPU at rest, `optimal` types) and the
job queue(s); the buckets, with their CORS rules, only when asked (`CreateWriteBucket`,
`CreateReadBuckets`). It reuses the policy builders with `${AWS::AccountId}` for the account.
Deploy with `--capabilities CAPABILITY_NAMED_IAM` (roles get the names Mantle expects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mantle.cloud.aws import compute, cors, names, policies, userdata
from mantle.schemas.environments import CredentialKind, EnvironmentPublic

ACCOUNT = "${AWS::AccountId}"
YES_NO = {"Type": "String", "AllowedValues": ["true", "false"], "Default": "false"}
PRINCIPAL_PATTERN = r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$"


@dataclass(frozen=True)
class TemplateInputs:
    env: EnvironmentPublic
    tenant: str
    external_id: str
    principal_arn: str | None
    origin: str

    @property
    def names(self) -> names.ResourceNames:
        return names.resource_names(
            self.tenant, self.env.name, role_arn=self.env.credentials.role_arn
        )

    @property
    def tag_list(self) -> list[dict[str, str]]:
        return names.tag_list(self.tenant, self.env.name)

    @property
    def tag_map(self) -> dict[str, str]:
        return names.tags(self.tenant, self.env.name)


def substituted(value: Any) -> Any:
    """Wrap every string that names a pseudo parameter in `Fn::Sub`."""
    if isinstance(value, dict):
        return {k: substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substituted(v) for v in value]
    if isinstance(value, str) and "${AWS::" in value:
        return {"Fn::Sub": value}
    return value


def template(inputs: TemplateInputs) -> dict[str, Any]:
    env = inputs.env
    resources = {
        **_buckets(inputs),
        **_platform(inputs),
        **_instance_role(inputs),
        **_head_job_role(inputs),
        **_batch(inputs),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Mantle environment {inputs.tenant}/{env.name}: IAM, launch template, "
        "AWS Batch compute environment and job queue(s), optionally the S3 buckets.",
        "Parameters": _parameters(inputs),
        "Conditions": _conditions(inputs),
        "Rules": {
            "EnvironmentRegion": {
                "Assertions": [
                    {
                        "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, env.region]},
                        "AssertDescription": f"Deploy this stack in {env.region}, the "
                        "environment's region.",
                    }
                ]
            }
        },
        "Resources": resources,
        "Outputs": _outputs(inputs),
    }


def _parameters(inputs: TemplateInputs) -> dict[str, Any]:
    params: dict[str, Any] = {
        "SubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets of the Batch hosts. At boot they download Miniconda and "
            "the AWS CLI from the internet, so they need a public IP in a public subnet or a "
            "NAT gateway; S3, ECR, ECS and CloudWatch Logs are reached through the same route "
            "or through VPC endpoints.",
        },
        "SecurityGroupIds": {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "Security groups of the Batch hosts (outbound only is enough).",
        },
        "MaxVCpus": {"Type": "Number", "Default": compute.DEFAULT_MAX_VCPUS, "MinValue": 1},
        "DockerVolumeGiB": {
            "Type": "Number",
            "Default": userdata.DEFAULT_DOCKER_VOLUME_GIB,
            "MinValue": 20,
            "MaxValue": 16384,
            "Description": "Size of each Batch host's encrypted gp3 volume for Docker (task "
            "containers and their scratch data).",
        },
        "CreateWriteBucket": {**YES_NO, "Description": "Create the write bucket here."},
    }
    if inputs.env.read_buckets:
        params["CreateReadBuckets"] = {**YES_NO, "Description": "Create the read buckets here."}
    if inputs.env.credentials.kind is CredentialKind.role:
        principal = {
            "Type": "String",
            "AllowedPattern": PRINCIPAL_PATTERN,
            "Description": "The Mantle server's AWS identity, allowed to assume the role.",
        }
        if inputs.principal_arn:
            principal["Default"] = inputs.principal_arn
        params["PlatformPrincipalArn"] = principal
    return params


def _conditions(inputs: TemplateInputs) -> dict[str, Any]:
    conditions = {"CreateWriteBucket": {"Fn::Equals": [{"Ref": "CreateWriteBucket"}, "true"]}}
    if inputs.env.read_buckets:
        conditions["CreateReadBuckets"] = {"Fn::Equals": [{"Ref": "CreateReadBuckets"}, "true"]}
    return conditions


def _bucket(inputs: TemplateInputs, name: str, condition: str, methods) -> dict[str, Any]:
    rule = cors.rules(inputs.origin, methods)["CORSRules"][0]
    cors_rule = {
        "AllowedHeaders": rule["AllowedHeaders"],
        "AllowedMethods": rule["AllowedMethods"],
        "AllowedOrigins": rule["AllowedOrigins"],
        "MaxAge": rule["MaxAgeSeconds"],
    }
    if rule["ExposeHeaders"]:
        cors_rule["ExposedHeaders"] = rule["ExposeHeaders"]
    block_all = (
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    )
    return {
        "Type": "AWS::S3::Bucket",
        "Condition": condition,
        # Data outlives the stack: deleting the stack must never delete a bucket.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": name,
            "CorsConfiguration": {"CorsRules": [cors_rule]},
            "PublicAccessBlockConfiguration": dict.fromkeys(block_all, True),
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "Tags": inputs.tag_list,
        },
    }


def _buckets(inputs: TemplateInputs) -> dict[str, Any]:
    env = inputs.env
    found = {
        "WriteBucket": _bucket(inputs, env.write_bucket, "CreateWriteBucket", cors.WRITE_METHODS)
    }
    reads = [b for b in dict.fromkeys(r.bucket for r in env.read_buckets) if b != env.write_bucket]
    for number, bucket in enumerate(reads, start=1):
        found[f"ReadBucket{number}"] = _bucket(
            inputs, bucket, "CreateReadBuckets", cors.READ_METHODS
        )
    return found


def _platform(inputs: TemplateInputs) -> dict[str, Any]:
    arns = policies.Arns(inputs.env.region, ACCOUNT)
    document = policies.platform_policy(inputs.env, arns, inputs.names)
    found: dict[str, Any] = {
        "PlatformPolicy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": inputs.names.platform_policy,
                "Description": "What the Mantle server may do in this account.",
                "PolicyDocument": substituted(document),
            },
        }
    }
    kind = inputs.env.credentials.kind
    if kind is CredentialKind.role:
        trust = policies.platform_trust_policy({"Ref": "PlatformPrincipalArn"}, inputs.external_id)
        found["PlatformRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": inputs.names.platform_role,
                "Path": names.role_path(inputs.env.credentials.role_arn),
                "AssumeRolePolicyDocument": trust,
                "ManagedPolicyArns": [{"Ref": "PlatformPolicy"}],
                "Tags": inputs.tag_list,
            },
        }
    elif kind is CredentialKind.keys:
        found["PlatformUser"] = {
            "Type": "AWS::IAM::User",
            "Properties": {
                "UserName": inputs.names.platform_user,
                "ManagedPolicyArns": [{"Ref": "PlatformPolicy"}],
                "Tags": inputs.tag_list,
            },
        }
    return found


def _instance_role(inputs: TemplateInputs) -> dict[str, Any]:
    env, arns = inputs.env, policies.Arns(inputs.env.region, ACCOUNT)
    inline = policies.instance_inline_policies(env, arns)
    managed = "arn:${AWS::Partition}:iam::aws:policy/" + policies.ECS_INSTANCE_MANAGED_POLICY
    return {
        "InstanceRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": inputs.names.instance_role,
                "AssumeRolePolicyDocument": policies.service_trust_policy("ec2.amazonaws.com"),
                "ManagedPolicyArns": [{"Fn::Sub": managed}],
                "Policies": [
                    {"PolicyName": name, "PolicyDocument": substituted(doc)}
                    for name, doc in inline.items()
                ],
                "Tags": inputs.tag_list,
            },
        },
        "InstanceProfile": {
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {
                "InstanceProfileName": inputs.names.instance_role,
                "Roles": [{"Ref": "InstanceRole"}],
            },
        },
    }


def _head_job_role(inputs: TemplateInputs) -> dict[str, Any]:
    arns = policies.Arns(inputs.env.region, ACCOUNT)
    return {
        "HeadJobRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": inputs.names.head_job_role,
                "AssumeRolePolicyDocument": policies.service_trust_policy(
                    "ecs-tasks.amazonaws.com"
                ),
                "Policies": [
                    {
                        "PolicyName": "nextflow-head-job",
                        "PolicyDocument": substituted(policies.head_job_policy(inputs.env, arns)),
                    }
                ],
                "Tags": inputs.tag_list,
            },
        }
    }


def _batch(inputs: TemplateInputs) -> dict[str, Any]:
    env = inputs.env
    found = {
        "LaunchTemplate": _launch_template(inputs),
        "ComputeEnvironment": {
            "Type": "AWS::Batch::ComputeEnvironment",
            "Properties": {
                "ComputeEnvironmentName": inputs.names.compute_environment,
                "Type": "MANAGED",
                "State": "ENABLED",
                "ReplaceComputeEnvironment": False,  # update hosts in place (see `compute`)
                "ComputeResources": {
                    "Type": "EC2",
                    "AllocationStrategy": compute.ALLOCATION_STRATEGY,
                    "MinvCpus": compute.MIN_VCPUS,
                    "MaxvCpus": {"Ref": "MaxVCpus"},
                    "InstanceTypes": compute.INSTANCE_TYPES,
                    "Ec2Configuration": [{"ImageType": compute.IMAGE_TYPE}],
                    "UpdateToLatestImageVersion": compute.UPDATE_TO_LATEST_IMAGE,
                    "Subnets": {"Ref": "SubnetIds"},
                    "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
                    "InstanceRole": {"Fn::GetAtt": ["InstanceProfile", "Arn"]},
                    "LaunchTemplate": {
                        "LaunchTemplateId": {"Ref": "LaunchTemplate"},
                        "Version": {"Fn::GetAtt": ["LaunchTemplate", "LatestVersionNumber"]},
                    },
                    "Tags": inputs.tag_map,
                },
                "Tags": inputs.tag_map,
            },
        },
    }
    for logical, queue in _queues(env).items():
        found[logical] = {
            "Type": "AWS::Batch::JobQueue",
            "Properties": {
                "JobQueueName": queue,
                "Priority": 1,
                "State": "ENABLED",
                "ComputeEnvironmentOrder": [
                    {"Order": 1, "ComputeEnvironment": {"Ref": "ComputeEnvironment"}}
                ],
                "Tags": inputs.tag_map,
            },
        }
    return found


def _queues(env: EnvironmentPublic) -> dict[str, str]:
    queues = {"JobQueue": env.compute_queue}
    if env.head_queue != env.compute_queue:
        queues["HeadJobQueue"] = env.head_queue
    return queues


def _launch_template(inputs: TemplateInputs) -> dict[str, Any]:
    tagged = [{"ResourceType": kind, "Tags": inputs.tag_list} for kind in ("instance", "volume")]
    return {
        "Type": "AWS::EC2::LaunchTemplate",
        "Properties": {
            "LaunchTemplateName": inputs.names.launch_template,
            "LaunchTemplateData": {
                "UserData": {"Fn::Base64": userdata.user_data(inputs.env)},
                "BlockDeviceMappings": userdata.block_device_mappings({"Ref": "DockerVolumeGiB"}),
                "MetadataOptions": userdata.METADATA_OPTIONS,
                "TagSpecifications": tagged,
            },
            "TagSpecifications": [{"ResourceType": "launch-template", "Tags": inputs.tag_list}],
        },
    }


def _outputs(inputs: TemplateInputs) -> dict[str, Any]:
    env = inputs.env
    outputs: dict[str, Any] = {
        "PlatformPolicyArn": {"Value": {"Ref": "PlatformPolicy"}},
        "InstanceProfileArn": {"Value": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}},
        "HeadJobRoleArn": {"Value": {"Fn::GetAtt": ["HeadJobRole", "Arn"]}},
        "LaunchTemplateId": {"Value": {"Ref": "LaunchTemplate"}},
        "ComputeEnvironmentArn": {"Value": {"Ref": "ComputeEnvironment"}},
    }
    for logical in _queues(env):
        outputs[f"{logical}Arn"] = {"Value": {"Ref": logical}}
    if env.credentials.kind is CredentialKind.role:
        outputs["PlatformRoleArn"] = {"Value": {"Fn::GetAtt": ["PlatformRole", "Arn"]}}
        outputs["ExternalId"] = {"Value": inputs.external_id}
    elif env.credentials.kind is CredentialKind.keys:
        outputs["PlatformUserName"] = {
            "Value": {"Ref": "PlatformUser"},
            "Description": "Create an access key for this user and give it to Mantle.",
        }
    return outputs
