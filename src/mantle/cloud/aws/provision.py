"""`mantle aws provision`: creates an environment's Batch side with boto3, in order: the
instance role and profile, the head job role (in `provision_iam`), Batch's service-linked
role, the launch template, the compute environment (in `provision_compute`), the job queue(s).

A changed launch template becomes a new version, made the default, and the compute
environment is pointed at that version number: Batch only re-reads a launch template during
an infrastructure update, so `$Latest` alone would never reach the hosts.

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
from mantle.cloud.aws.provision_compute import ComputeSteps
from mantle.cloud.aws.provision_iam import DENIED_HINT, IamSteps
from mantle.schemas.environments import EnvironmentPublic, ProvisionAction, ProvisionReport

BATCH_SERVICE = "batch.amazonaws.com"


@dataclass
class ProvisionSpec:
    env: EnvironmentPublic
    tenant: str
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    # None keeps what is there (a new compute environment or launch template gets the default).
    max_vcpus: int | None = None
    docker_volume_gib: int | None = None
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
        self.compute_steps = ComputeSteps(self, sleep=sleep, wait_seconds=wait_seconds)

    def call(self, doing: str, fn: Callable, /, **kwargs):
        """One AWS call; its failure becomes a CloudError saying what was being done."""
        try:
            return fn(**kwargs)
        except Exception as e:
            raise cloud_error(e, doing, self.spec.secrets, denied_hint=DENIED_HINT) from e

    def run(self, *, dry_run: bool) -> ProvisionReport:
        actions = self.iam_steps.run(dry_run=dry_run)
        actions.append(self.service_linked_role(dry_run))
        template, version = self.launch_template(dry_run)
        actions.append(template)
        actions.append(self.compute_steps.compute_environment(version, dry_run))
        actions += [self.job_queue(queue, dry_run) for queue in self.env.queues]
        changed = any(a.action != "none" for a in actions)
        return ProvisionReport(
            environment=self.env.name, dry_run=dry_run, changed=changed, actions=actions
        )

    # --- Batch's service-linked role ------------------------------------------------------

    def service_linked_role_arn(self) -> str | None:
        prefix = f"/aws-service-role/{BATCH_SERVICE}/"
        found = self.call(
            "listing Batch's service-linked role", self.iam_steps.iam.list_roles, PathPrefix=prefix
        )
        roles = found.get("Roles", [])
        return roles[0]["Arn"] if roles else None

    def service_linked_role(self, dry_run: bool) -> ProvisionAction:
        name = "AWSServiceRoleForBatch"
        if self.service_linked_role_arn():
            return ProvisionAction(resource="service-linked role", name=name, action="none")
        if not dry_run:
            self.call(
                "creating Batch's service-linked role",
                self.iam_steps.iam.create_service_linked_role,
                AWSServiceName=BATCH_SERVICE,
            )
        return ProvisionAction(resource="service-linked role", name=name, action="create")

    # --- launch template ------------------------------------------------------------------

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

    def launch_template(self, dry_run: bool) -> tuple[ProvisionAction, str | None]:
        """The action, and the version number the compute environment must use (None: a
        version a dry run did not create)."""
        name, resource = self.names.launch_template, "launch template"
        existing = self._find_launch_template()
        if existing is None:
            version = None
            if not dry_run:
                created = self.call(
                    "creating the launch template",
                    self.ec2.create_launch_template,
                    LaunchTemplateName=name,
                    LaunchTemplateData=self._launch_template_data(None),
                    TagSpecifications=[{"ResourceType": "launch-template", "Tags": self.tag_list}],
                )
                version = str(created["LaunchTemplate"]["DefaultVersionNumber"])
            return ProvisionAction(resource=resource, name=name, action="create"), version
        changes, version = self._launch_template_changes(existing, dry_run)
        action = ProvisionAction(
            resource=resource,
            name=name,
            action="update" if changes else "none",
            detail="; ".join(changes),
        )
        return action, version

    def _launch_template_data(self, current: dict | None) -> dict:
        volume = self.spec.docker_volume_gib or _volume_gib(current or {})
        return userdata.launch_template_data(
            self.env, self.spec.tenant, volume or userdata.DEFAULT_DOCKER_VOLUME_GIB
        )

    def _launch_template_changes(self, existing: dict, dry_run: bool) -> tuple[list, str | None]:
        name, changes = self.names.launch_template, []
        version = str(existing["DefaultVersionNumber"])
        current = self.call(
            "reading the launch template",
            self.ec2.describe_launch_template_versions,
            LaunchTemplateName=name,
            Versions=["$Default"],
        )["LaunchTemplateVersions"][0].get("LaunchTemplateData", {})
        data = self._launch_template_data(current)
        stale = _stale_template_parts(current, data)
        if stale:
            changes.append(f"new version ({', '.join(stale)})")
            version = None if dry_run else self._new_version(data)
        if not _has_tags(existing.get("Tags", []), self.tags):
            changes.append("tags")
            if not dry_run:
                self.call(
                    "tagging the launch template",
                    self.ec2.create_tags,
                    Resources=[existing["LaunchTemplateId"]],
                    Tags=self.tag_list,
                )
        return changes, version

    def _new_version(self, data: dict) -> str:
        name = self.names.launch_template
        created = self.call(
            "updating the launch template",
            self.ec2.create_launch_template_version,
            LaunchTemplateName=name,
            LaunchTemplateData=data,
        )
        number = str(created["LaunchTemplateVersion"]["VersionNumber"])
        self.call(
            "updating the launch template",
            self.ec2.modify_launch_template,
            LaunchTemplateName=name,
            DefaultVersion=number,
        )
        return number

    # --- job queues -----------------------------------------------------------------------

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
        changes += self.tag_batch(found[0].get("jobQueueArn"), found[0].get("tags"), dry_run)
        action = "update" if changes else "none"
        return ProvisionAction(
            resource="job queue", name=queue, action=action, detail="; ".join(changes)
        )

    def tag_batch(self, arn: str | None, current: dict | None, dry_run: bool) -> list[str]:
        if arn is None or _has_tags(current or {}, self.tags):
            return []
        if not dry_run:
            self.call(
                "tagging a Batch resource", self.batch.tag_resource, resourceArn=arn, tags=self.tags
            )
        return ["tags"]


def _volume_gib(data: dict) -> int | None:
    for mapping in data.get("BlockDeviceMappings", []):
        if mapping.get("DeviceName") == userdata.DATA_DEVICE:
            return mapping.get("Ebs", {}).get("VolumeSize")
    return None


def _stale_template_parts(current: dict, wanted: dict) -> list[str]:
    """Which parts of the live launch template data differ from what the kit generates."""
    stale = []
    if current.get("UserData") != wanted["UserData"]:
        stale.append("user data")
    metadata = current.get("MetadataOptions", {})
    if any(metadata.get(k) != v for k, v in wanted["MetadataOptions"].items()):
        stale.append("IMDSv2 metadata options")
    (want,) = wanted["BlockDeviceMappings"]
    mapped = {m.get("DeviceName"): m.get("Ebs", {}) for m in current.get("BlockDeviceMappings", [])}
    live = mapped.get(want["DeviceName"], {})
    if any(live.get(k) != v for k, v in want["Ebs"].items()):
        stale.append("Docker volume")
    return stale


def _has_tags(current: dict | list, wanted: dict[str, str]) -> bool:
    if isinstance(current, list):
        current = {t["Key"]: t["Value"] for t in current}
    return all(current.get(k) == v for k, v in wanted.items())
