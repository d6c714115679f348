"""`mantle aws provision`: creates an environment's Batch side with boto3, in order: the
instance role and profile, the head job role (in `provision_iam`), Batch's service-linked
role, the launch template, the compute environment, the job queue(s).

Each step looks first and acts only on a difference, so a second run changes nothing; a dry
run looks and reports the plan without acting. Every resource Mantle creates carries the
`mantle:tenant` and `mantle:environment` tags (Batch's service-linked role is AWS's, shared
by the account, and cannot be tagged).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mantle.aws.connect import AwsConnection
from mantle.aws.errors import cloud_error, describe
from mantle.cloud.aws import names, userdata
from mantle.cloud.aws.provision_iam import DENIED_HINT, IamSteps
from mantle.errors import CloudError, InvalidInputError
from mantle.schemas.environments import EnvironmentPublic, ProvisionAction, ProvisionReport

BATCH_SERVICE = "batch.amazonaws.com"


@dataclass
class ProvisionSpec:
    env: EnvironmentPublic
    tenant: str
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    max_vcpus: int = 256
    secrets: tuple[str, ...] = field(default=(), repr=False)  # redacted from error messages


class Provisioner:
    def __init__(
        self,
        conn: AwsConnection,
        spec: ProvisionSpec,
        *,
        sleep: Callable[[float], None] = time.sleep,
        wait_seconds: float = 300,
    ) -> None:
        self.spec, self.env = spec, spec.env
        self.names = names.resource_names(spec.tenant, spec.env.name)
        self.tags = names.tags(spec.tenant, spec.env.name)
        self.tag_list = names.tag_list(spec.tenant, spec.env.name)
        self.iam_steps = IamSteps(conn.client("iam"), spec, self.names, self.call)
        self.ec2, self.batch = conn.client("ec2"), conn.client("batch")
        self.sleep, self.wait_seconds = sleep, wait_seconds

    def call(self, doing: str, fn: Callable, /, **kwargs):
        """One AWS call; its failure becomes a CloudError saying what was being done."""
        try:
            return fn(**kwargs)
        except Exception as e:
            raise cloud_error(e, doing, self.spec.secrets, denied_hint=DENIED_HINT) from e

    def run(self, *, dry_run: bool) -> ProvisionReport:
        actions = self.iam_steps.run(dry_run=dry_run)
        actions.append(self.service_linked_role(dry_run))
        actions.append(self.launch_template(dry_run))
        actions.append(self.compute_environment(dry_run))
        actions += [self.job_queue(queue, dry_run) for queue in self.env.queues]
        changed = any(a.action != "none" for a in actions)
        return ProvisionReport(
            environment=self.env.name, dry_run=dry_run, changed=changed, actions=actions
        )

    # --- Batch's service-linked role ------------------------------------------------------

    def _service_linked_role_arn(self) -> str | None:
        prefix = f"/aws-service-role/{BATCH_SERVICE}/"
        found = self.call(
            "listing Batch's service-linked role", self.iam_steps.iam.list_roles, PathPrefix=prefix
        )
        roles = found.get("Roles", [])
        return roles[0]["Arn"] if roles else None

    def service_linked_role(self, dry_run: bool) -> ProvisionAction:
        name = "AWSServiceRoleForBatch"
        if self._service_linked_role_arn():
            return ProvisionAction(resource="service-linked role", name=name, action="none")
        if not dry_run:
            self.call(
                "creating Batch's service-linked role",
                self.iam_steps.iam.create_service_linked_role,
                AWSServiceName=BATCH_SERVICE,
            )
        return ProvisionAction(resource="service-linked role", name=name, action="create")

    # --- launch template ------------------------------------------------------------------

    def _launch_template_data(self) -> dict:
        return userdata.launch_template_data(self.env, self.spec.tenant)

    def _find_launch_template(self) -> dict | None:
        try:
            found = self.ec2.describe_launch_templates(
                LaunchTemplateNames=[self.names.launch_template]
            )
        except Exception as e:
            if describe(e).code.startswith("InvalidLaunchTemplateName.NotFound"):
                return None
            raise cloud_error(e, "looking up the launch template", self.spec.secrets) from e
        return found["LaunchTemplates"][0]

    def launch_template(self, dry_run: bool) -> ProvisionAction:
        name, data = self.names.launch_template, self._launch_template_data()
        resource = "launch template"
        existing = self._find_launch_template()
        if existing is None:
            if not dry_run:
                tag_spec = [{"ResourceType": "launch-template", "Tags": self.tag_list}]
                self.call(
                    "creating the launch template",
                    self.ec2.create_launch_template,
                    LaunchTemplateName=name,
                    LaunchTemplateData=data,
                    TagSpecifications=tag_spec,
                )
            return ProvisionAction(resource=resource, name=name, action="create")
        changes = self._launch_template_changes(existing, data, dry_run)
        action = "update" if changes else "none"
        return ProvisionAction(
            resource=resource, name=name, action=action, detail="; ".join(changes)
        )

    def _launch_template_changes(self, existing: dict, data: dict, dry_run: bool) -> list[str]:
        name, changes = self.names.launch_template, []
        latest = self.call(
            "reading the launch template",
            self.ec2.describe_launch_template_versions,
            LaunchTemplateName=name,
            Versions=["$Latest"],
        )["LaunchTemplateVersions"][0]
        current = latest.get("LaunchTemplateData", {})
        if (
            current.get("UserData") != data["UserData"]
            or current.get("MetadataOptions", {}).get("HttpTokens") != "required"
        ):
            changes.append("new version with the current user data")
            if not dry_run:
                version = self.call(
                    "updating the launch template",
                    self.ec2.create_launch_template_version,
                    LaunchTemplateName=name,
                    LaunchTemplateData=data,
                )
                number = str(version["LaunchTemplateVersion"]["VersionNumber"])
                self.call(
                    "updating the launch template",
                    self.ec2.modify_launch_template,
                    LaunchTemplateName=name,
                    DefaultVersion=number,
                )
        if not _has_tags(existing.get("Tags", []), self.tags):
            changes.append("tags")
            if not dry_run:
                self.call(
                    "tagging the launch template",
                    self.ec2.create_tags,
                    Resources=[existing["LaunchTemplateId"]],
                    Tags=self.tag_list,
                )
        return changes

    # --- compute environment and queues ---------------------------------------------------

    def _describe_compute_environment(self) -> dict | None:
        found = self.call(
            "looking up the compute environment",
            self.batch.describe_compute_environments,
            computeEnvironments=[self.names.compute_environment],
        )["computeEnvironments"]
        return found[0] if found else None

    def compute_environment(self, dry_run: bool) -> ProvisionAction:
        name, resource = self.names.compute_environment, "compute environment"
        existing = self._describe_compute_environment()
        if existing is None:
            subnets, groups = self._network()
            if not dry_run:
                self._create_compute_environment(subnets, groups)
            detail = f"subnets {', '.join(subnets)}; security groups {', '.join(groups)}"
            return ProvisionAction(resource=resource, name=name, action="create", detail=detail)
        changes = []
        if existing.get("state") != "ENABLED":
            changes.append("enable")
            if not dry_run:
                self.call(
                    "enabling the compute environment",
                    self.batch.update_compute_environment,
                    computeEnvironment=name,
                    state="ENABLED",
                )
        changes += self._tag_batch(
            existing.get("computeEnvironmentArn"), existing.get("tags"), dry_run
        )
        action = "update" if changes else "none"
        return ProvisionAction(
            resource=resource, name=name, action=action, detail="; ".join(changes)
        )

    def _create_compute_environment(self, subnets: list[str], groups: list[str]) -> None:
        profile = self.iam_steps.instance_profile_arn()
        resources = {
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "minvCpus": 0,
            "desiredvCpus": 0,
            "maxvCpus": self.spec.max_vcpus,
            "instanceTypes": ["optimal"],
            "subnets": subnets,
            "securityGroupIds": groups,
            "instanceRole": profile,
            "launchTemplate": {
                "launchTemplateName": self.names.launch_template,
                "version": "$Latest",
            },
            "tags": self.tags,
        }
        self.call(
            "creating the compute environment",
            self.batch.create_compute_environment,
            computeEnvironmentName=self.names.compute_environment,
            type="MANAGED",
            state="ENABLED",
            computeResources=resources,
            serviceRole=self._service_linked_role_arn(),
            tags=self.tags,
        )
        self._wait_until_valid()

    def _wait_until_valid(self) -> None:
        """Batch creates compute environments asynchronously; a queue needs a VALID one."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found = self._describe_compute_environment() or {}
            if found.get("status") == "VALID":
                return
            if found.get("status") == "INVALID" or time.monotonic() > deadline:
                reason = found.get("statusReason") or "no reason given"
                raise CloudError(f"the compute environment is {found.get('status')}: {reason}")
            self.sleep(5)

    def _network(self) -> tuple[list[str], list[str]]:
        subnets, groups = list(self.spec.subnet_ids), list(self.spec.security_group_ids)
        if subnets and groups:
            return subnets, groups
        vpcs = self.call(
            "finding the default VPC",
            self.ec2.describe_vpcs,
            Filters=[{"Name": "isDefault", "Values": ["true"]}],
        )["Vpcs"]
        if not vpcs:
            raise InvalidInputError(
                "this region has no default VPC: give the subnets and security groups of the "
                "Batch hosts (--subnet, --security-group)"
            )
        in_vpc = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
        if not subnets:
            found = self.call("listing subnets", self.ec2.describe_subnets, Filters=in_vpc)
            subnets = sorted(s["SubnetId"] for s in found["Subnets"])
        if not groups:
            default = [*in_vpc, {"Name": "group-name", "Values": ["default"]}]
            found = self.call(
                "listing security groups", self.ec2.describe_security_groups, Filters=default
            )
            groups = [g["GroupId"] for g in found["SecurityGroups"]]
        return subnets, groups

    def job_queue(self, queue: str, dry_run: bool) -> ProvisionAction:
        found = self.call(
            "looking up the job queue", self.batch.describe_job_queues, jobQueues=[queue]
        )["jobQueues"]
        if not found:
            if not dry_run:
                order = [{"order": 1, "computeEnvironment": self.names.compute_environment}]
                self.call(
                    f"creating the job queue {queue}",
                    self.batch.create_job_queue,
                    jobQueueName=queue,
                    state="ENABLED",
                    priority=1,
                    computeEnvironmentOrder=order,
                    tags=self.tags,
                )
            return ProvisionAction(resource="job queue", name=queue, action="create")
        changes = []
        if found[0].get("state") != "ENABLED":
            changes.append("enable")
            if not dry_run:
                self.call(
                    f"enabling the job queue {queue}",
                    self.batch.update_job_queue,
                    jobQueue=queue,
                    state="ENABLED",
                )
        changes += self._tag_batch(found[0].get("jobQueueArn"), found[0].get("tags"), dry_run)
        action = "update" if changes else "none"
        return ProvisionAction(
            resource="job queue", name=queue, action=action, detail="; ".join(changes)
        )

    def _tag_batch(self, arn: str | None, current: dict | None, dry_run: bool) -> list[str]:
        if arn is None or _has_tags(current or {}, self.tags):
            return []
        if not dry_run:
            self.call(
                "tagging a Batch resource", self.batch.tag_resource, resourceArn=arn, tags=self.tags
            )
        return ["tags"]


def _has_tags(current: dict | list, wanted: dict[str, str]) -> bool:
    if isinstance(current, list):
        current = {t["Key"]: t["Value"] for t in current}
    return all(current.get(k) == v for k, v in wanted.items())
