"""Names and tags of the AWS resources Mantle creates for an environment. One place, so the
setup kit's documents, the CloudFormation template and the provisioner always agree."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

TENANT_TAG = "mantle:tenant"
ENVIRONMENT_TAG = "mantle:environment"
# Job definitions the platform registers start with this; the platform policy allows no other.
PLATFORM_JOB_DEFINITION_PREFIX = "mantle-"
# Nextflow registers its task job definitions as `nf-<image>`.
NEXTFLOW_JOB_DEFINITION_PREFIX = "nf-"
_IAM_NAME_LIMIT = 64


@dataclass(frozen=True)
class ResourceNames:
    platform_role: str
    platform_user: str
    platform_policy: str
    instance_role: str
    head_job_role: str
    launch_template: str
    compute_environment: str
    doctor_job_definition: str


def resource_names(tenant: str, environment: str, *, role_arn: str | None = None) -> ResourceNames:
    """Names for `tenant`'s `environment`. The platform role keeps the name of `role_arn`
    when the environment already names one, so the kit creates the role Mantle will assume."""

    def name(suffix: str, limit: int = _IAM_NAME_LIMIT) -> str:
        return _bounded(f"mantle-{tenant}-{environment}", suffix, limit)

    return ResourceNames(
        platform_role=_role_name(role_arn) if role_arn else name("platform"),
        platform_user=name("platform"),
        platform_policy=name("platform", 128),
        instance_role=name("batch-instance"),
        head_job_role=name("head-job"),
        launch_template=name("launch-template", 128),
        compute_environment=name("ec2", 128),
        doctor_job_definition=name("doctor", 128),
    )


def tags(tenant: str, environment: str) -> dict[str, str]:
    return {TENANT_TAG: tenant, ENVIRONMENT_TAG: environment}


def tag_list(tenant: str, environment: str) -> list[dict[str, str]]:
    """The same tags in the `[{"Key": ..., "Value": ...}]` shape IAM and EC2 use."""
    return [{"Key": k, "Value": v} for k, v in tags(tenant, environment).items()]


def role_path(role_arn: str) -> str:
    """`arn:aws:iam::1:role/a/b/name` -> `/a/b/`."""
    resource = role_arn.split(":role", 1)[1]
    return resource.rsplit("/", 1)[0] + "/"


def _role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[1]


def _bounded(base: str, suffix: str, limit: int) -> str:
    full = f"{base}-{suffix}"
    if len(full) <= limit:
        return full
    # Too long for AWS: keep a readable start and make it unique with a digest of the whole.
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    head = re.sub(r"-+$", "", base[: limit - len(suffix) - len(digest) - 2])
    return f"{head}-{digest}-{suffix}"
