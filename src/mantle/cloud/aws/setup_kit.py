"""The setup kit (pure): every document a customer needs to connect an AWS account to an
environment, generated from the environment's values. `build` returns file name -> text;
`mantle aws setup-kit ENV --out DIR` writes them, the API returns them as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from mantle.cloud.aws import cloudformation, compute, cors, names, policies, userdata
from mantle.schemas.environments import CredentialKind, EnvironmentPublic


@dataclass(frozen=True)
class KitContext:
    tenant: str
    external_id: str
    origin: str  # the web UI's origin, for CORS
    principal_arn: str | None = None  # the server's AWS identity, for role trust policies


def build(env: EnvironmentPublic, context: KitContext) -> dict[str, str]:
    arns = policies.Arns(env.region, env.account_id)
    resource_names = names.resource_names(
        context.tenant, env.name, role_arn=env.credentials.role_arn
    )
    files = {
        "platform-policy.json": policies.platform_policy(env, arns, resource_names),
        "instance-role-trust-policy.json": policies.service_trust_policy("ec2.amazonaws.com"),
        **{
            f"instance-role-{name}-policy.json": document
            for name, document in policies.instance_inline_policies(env, arns).items()
        },
        "head-job-role-trust-policy.json": policies.service_trust_policy("ecs-tasks.amazonaws.com"),
        "head-job-role-policy.json": policies.head_job_policy(env, arns),
        "cors-write-bucket.json": cors.rules(context.origin, cors.WRITE_METHODS),
        "launch-template.json": _launch_template(env, context, resource_names),
        "provisioner-policy.json": policies.provisioner_policy(env, arns, resource_names),
    }
    if context.principal_arn:
        files["platform-trust-policy.json"] = policies.platform_trust_policy(
            context.principal_arn, context.external_id
        )
    if env.read_buckets:
        files["cors-read-buckets.json"] = cors.rules(context.origin, cors.READ_METHODS)
    rendered = {name: _json(doc) for name, doc in files.items()}
    rendered["launch-template-user-data.txt"] = userdata.user_data(env)
    rendered["cloudformation.yaml"] = _yaml(cloudformation.template(_inputs(env, context)))
    rendered["nextflow.config"] = nextflow_config(env)
    rendered["README.md"] = readme(env, context, resource_names, sorted(rendered))
    return dict(sorted(rendered.items()))


def nextflow_config(env: EnvironmentPublic) -> str:
    """The platform's layer of every run's nextflow.config for this environment."""
    work = "/".join(p for p in (env.write_bucket, env.write_prefix, "work") if p)
    lines = [
        "// Written by Mantle into each run's nextflow.config (shown here for reference).",
        "process.executor = 'awsbatch'",
        f"process.queue = '{env.compute_queue}'",
        f"workDir = 's3://{work}'",
        f"aws.region = '{env.region}'",
        f"aws.batch.cliPath = '{env.cli_path}'",
    ]
    if env.nextflow_config.strip():
        lines += ["", "// The environment's extra configuration", env.nextflow_config.strip()]
    return "\n".join(lines) + "\n"


def _inputs(env: EnvironmentPublic, context: KitContext) -> cloudformation.TemplateInputs:
    return cloudformation.TemplateInputs(
        env=env,
        tenant=context.tenant,
        external_id=context.external_id,
        principal_arn=context.principal_arn,
        origin=context.origin,
    )


def _launch_template(env, context: KitContext, resource_names) -> dict[str, Any]:
    """Input for `aws ec2 create-launch-template --cli-input-json file://launch-template.json`."""
    tags = names.tag_list(context.tenant, env.name)
    return {
        "LaunchTemplateName": resource_names.launch_template,
        "LaunchTemplateData": userdata.launch_template_data(env, context.tenant),
        "TagSpecifications": [{"ResourceType": "launch-template", "Tags": tags}],
    }


def _json(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


class _NoAliasDumper(yaml.SafeDumper):
    """CloudFormation rejects YAML aliases, which PyYAML writes for repeated objects."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, width=100)


def readme(env: EnvironmentPublic, context: KitContext, resource_names, files: list[str]) -> str:
    kind = env.credentials.kind
    lines = [
        f"# Mantle setup kit: {context.tenant}/{env.name}",
        "",
        f"Account {env.account_id}, region {env.region}. Write bucket "
        f"`s3://{'/'.join(p for p in (env.write_bucket, env.write_prefix) if p)}`.",
        "",
        "## Fastest: one CloudFormation stack",
        "",
        "```bash",
        f"aws cloudformation deploy --region {env.region} --template-file cloudformation.yaml \\",
        f"  --stack-name mantle-{context.tenant}-{env.name} --capabilities CAPABILITY_NAMED_IAM \\",
        "  --parameter-overrides SubnetIds=subnet-a,subnet-b SecurityGroupIds=sg-x",
        "```",
        "",
        "Add `CreateWriteBucket=true` (and `CreateReadBuckets=true`) to create the buckets, "
        f"`DockerVolumeGiB=N` for another Docker volume size (default "
        f"{userdata.DEFAULT_DOCKER_VOLUME_GIB}). The subnets need a route to the internet "
        "(public IP or NAT gateway): hosts download Miniconda and the AWS CLI at boot.",
        "",
        f"Or let Mantle create the Batch side: `mantle aws provision {env.name}` (attach "
        "`provisioner-policy.json` to Mantle's credentials for the run, detach it after).",
        "",
        "## Or by hand",
        "",
        *_manual_steps(env, context, kind),
        "",
        f"Then check everything with `mantle aws doctor {env.name}`.",
        "",
        "## Files",
        "",
        *[f"- `{name}`" for name in files],
        "",
    ]
    return "\n".join(lines)


def _manual_steps(env: EnvironmentPublic, context: KitContext, kind: CredentialKind) -> list[str]:
    principal = (
        f"1. Create a role trusting the Mantle server ({context.principal_arn}) with "
        f"`platform-trust-policy.json` (external id `{context.external_id}`), and attach "
        "`platform-policy.json`."
        if context.principal_arn
        else "1. Ask your Mantle operator for the server's AWS principal "
        "(MANTLE_AWS__PLATFORM_PRINCIPAL_ARN), then create a role trusting it with the "
        f"external id `{context.external_id}`, and attach `platform-policy.json`."
    )
    if kind is CredentialKind.keys:
        principal = "1. Create an IAM user with `platform-policy.json` and an access key for it."
    elif kind is CredentialKind.server:
        principal = "1. Attach `platform-policy.json` to the Mantle server's own role."
    return [
        principal,
        "2. Apply `cors-write-bucket.json` to the write bucket (and `cors-read-buckets.json` to "
        "each read bucket): `aws s3api put-bucket-cors --bucket B --cors-configuration "
        "file://cors-write-bucket.json`.",
        "3. Create the Batch instance role (`instance-role-trust-policy.json`, the AWS managed "
        "policy AmazonEC2ContainerServiceforEC2Role, `instance-role-s3-policy.json`) and an "
        "instance profile of the same name.",
        "4. Create the head job role (`head-job-role-trust-policy.json`, "
        "`head-job-role-policy.json`).",
        "5. `aws ec2 create-launch-template --cli-input-json file://launch-template.json` "
        f"(each host gets a {userdata.DEFAULT_DOCKER_VOLUME_GIB} GiB encrypted gp3 volume for "
        "Docker: change `VolumeSize` to suit your pipelines).",
        f"6. Create a managed EC2 compute environment (min 0 vCPU, `optimal` instance types, "
        f"allocation strategy {compute.ALLOCATION_STRATEGY}, image type {compute.IMAGE_TYPE}, "
        "Batch's service-linked role) with that launch template's version number and "
        f"instance profile, and the job queue `{env.compute_queue}`"
        + (f" (and `{env.head_queue}`)." if env.head_queue != env.compute_queue else "."),
    ]
