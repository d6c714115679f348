"""The provisioner's compute environment step: create it with the settings of `compute`, or
compare the live one with them and update what differs in place (UpdateComputeEnvironment).

Scaling fields (min/max vCPUs) and the state change at once. Everything else (instance
types, subnets, security groups, instance profile, image type, launch template version) is an
infrastructure update: Batch replaces the hosts as their jobs finish, taking the newest
ECS_AL2 AMI on the way. Batch allows infrastructure updates only with BEST_FIT_PROGRESSIVE
(or SPOT_CAPACITY_OPTIMIZED) and its service-linked role, and never changes a compute
environment's type: such differences are reported as `replace` and left alone, since
replacing means draining the queues first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mantle.cloud.aws import compute
from mantle.errors import CloudError, InvalidInputError
from mantle.schemas.environments import ProvisionAction

if TYPE_CHECKING:
    from mantle.cloud.aws.provision import Provisioner

RESOURCE = "compute environment"
IN_PLACE_STRATEGIES = ("BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED")
# Fields a scaling update changes; all other computeResources fields need an infrastructure one.
SCALING_FIELDS = ("minvCpus", "maxvCpus")


class ComputeSteps:
    def __init__(
        self, provisioner: Provisioner, *, sleep: Callable[[float], None], wait_seconds: float
    ) -> None:
        self.p = provisioner
        self.batch, self.name = provisioner.batch, provisioner.names.compute_environment
        self.sleep, self.wait_seconds = sleep, wait_seconds

    def describe(self) -> dict | None:
        found = self.p.call(
            "looking up the compute environment",
            self.batch.describe_compute_environments,
            computeEnvironments=[self.name],
        )["computeEnvironments"]
        return found[0] if found else None

    def compute_environment(self, template_version: str | None, dry_run: bool) -> ProvisionAction:
        """`template_version`: the launch template version the hosts must use (None when a
        dry run planned a new one)."""
        existing = self.describe()
        if existing is None:
            subnets, groups = self._network()
            if not dry_run:
                self._create(subnets, groups, template_version)
            detail = f"subnets {', '.join(subnets)}; security groups {', '.join(groups)}"
            return ProvisionAction(
                resource=RESOURCE, name=self.name, action="create", detail=detail
            )
        return self._bring_in_line(existing, template_version, dry_run)

    # --- an existing compute environment --------------------------------------------------

    def wanted_resources(self, template_version: str | None) -> dict[str, Any]:
        """The computeResources fields Mantle sets; vCPUs, subnets and groups only when asked."""
        spec = self.p.spec
        wanted: dict[str, Any] = {
            "minvCpus": compute.MIN_VCPUS,
            "instanceTypes": compute.INSTANCE_TYPES,
            "instanceRole": self.p.iam_steps.instance_profile_ref(),
            "ec2Configuration": compute.ec2_configuration(),
            "launchTemplate": {
                "launchTemplateName": self.p.names.launch_template,
                "version": template_version or "(new version)",
            },
        }
        if spec.max_vcpus is not None:
            wanted["maxvCpus"] = spec.max_vcpus
        if spec.subnet_ids:
            wanted["subnets"] = spec.subnet_ids
        if spec.security_group_ids:
            wanted["securityGroupIds"] = spec.security_group_ids
        return wanted

    def _bring_in_line(
        self, existing: dict, template_version: str | None, dry_run: bool
    ) -> ProvisionAction:
        live = existing.get("computeResources", {})
        drift = {
            field: value
            for field, value in self.wanted_resources(template_version).items()
            if not _same(field, live.get(field), value)
        }
        infrastructure = [f for f in drift if f not in SCALING_FIELDS]
        blockers = _replacement_reasons(existing) if infrastructure else []
        if blockers:
            drift = {f: v for f, v in drift.items() if f in SCALING_FIELDS}
        enable = existing.get("state") != "ENABLED"
        changes = (["update it to ENABLED"] if enable else []) + [_label(f) for f in drift]
        if (drift or enable) and not dry_run:
            self._update(drift, enable)
        changes += self.p.tag_batch(
            existing.get("computeEnvironmentArn"), existing.get("tags"), dry_run
        )
        if blockers:
            detail = (
                f"needs replacement to change {', '.join(_label(f) for f in infrastructure)}: "
                f"{'; '.join(blockers)}. Drain and delete it, then provision again"
            )
            return ProvisionAction(
                resource=RESOURCE,
                name=self.name,
                action="replace",
                detail="; ".join([*changes, detail]),
            )
        action = "update" if changes else "none"
        return ProvisionAction(
            resource=RESOURCE, name=self.name, action=action, detail="; ".join(changes)
        )

    def _update(self, drift: dict[str, Any], enable: bool) -> None:
        request: dict[str, Any] = {"computeEnvironment": self.name}
        if enable:
            request["state"] = "ENABLED"
        if drift:
            resources = dict(drift)
            if any(f not in SCALING_FIELDS for f in drift):
                resources["updateToLatestImageVersion"] = compute.UPDATE_TO_LATEST_IMAGE
            request["computeResources"] = resources
        self.p.call(
            "updating the compute environment", self.batch.update_compute_environment, **request
        )

    # --- a new compute environment --------------------------------------------------------

    def _create(self, subnets: list[str], groups: list[str], template_version: str | None) -> None:
        spec = self.p.spec
        resources = {
            "type": "EC2",
            "allocationStrategy": compute.ALLOCATION_STRATEGY,
            "minvCpus": compute.MIN_VCPUS,
            "desiredvCpus": 0,
            "maxvCpus": spec.max_vcpus or compute.DEFAULT_MAX_VCPUS,
            "instanceTypes": compute.INSTANCE_TYPES,
            "subnets": subnets,
            "securityGroupIds": groups,
            "instanceRole": self.p.iam_steps.instance_profile_arn(),
            "ec2Configuration": compute.ec2_configuration(),
            "launchTemplate": {
                "launchTemplateName": self.p.names.launch_template,
                "version": template_version or "$Default",
            },
            "tags": self.p.tags,
        }
        self.p.call(
            "creating the compute environment",
            self.batch.create_compute_environment,
            computeEnvironmentName=self.name,
            type="MANAGED",
            state="ENABLED",
            computeResources=resources,
            serviceRole=self.p.service_linked_role_arn(),
            tags=self.p.tags,
        )
        self._wait_until_valid()

    def _wait_until_valid(self) -> None:
        """Batch creates compute environments asynchronously; a queue needs a VALID one."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found = self.describe() or {}
            if found.get("status") == "VALID":
                return
            if found.get("status") == "INVALID" or time.monotonic() > deadline:
                reason = found.get("statusReason") or "no reason given"
                raise CloudError(f"the compute environment is {found.get('status')}: {reason}")
            self.sleep(5)

    def _network(self) -> tuple[list[str], list[str]]:
        subnets, groups = list(self.p.spec.subnet_ids), list(self.p.spec.security_group_ids)
        if subnets and groups:
            return subnets, groups
        ec2 = self.p.ec2
        vpcs = self.p.call(
            "finding the default VPC",
            ec2.describe_vpcs,
            Filters=[{"Name": "isDefault", "Values": ["true"]}],
        )["Vpcs"]
        if not vpcs:
            raise InvalidInputError(
                "this region has no default VPC: give the subnets and security groups of the "
                "Batch hosts (--subnet, --security-group)"
            )
        in_vpc = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
        if not subnets:
            found = self.p.call("listing subnets", ec2.describe_subnets, Filters=in_vpc)
            subnets = sorted(s["SubnetId"] for s in found["Subnets"])
        if not groups:
            default = [*in_vpc, {"Name": "group-name", "Values": ["default"]}]
            found = self.p.call(
                "listing security groups", ec2.describe_security_groups, Filters=default
            )
            groups = [g["GroupId"] for g in found["SecurityGroups"]]
        return subnets, groups


_LABELS = {
    "minvCpus": "min vCPUs",
    "maxvCpus": "max vCPUs",
    "instanceTypes": "instance types",
    "instanceRole": "instance profile",
    "ec2Configuration": "image type",
    "launchTemplate": "launch template version",
    "subnets": "subnets",
    "securityGroupIds": "security groups",
}


def _label(field: str) -> str:
    return _LABELS.get(field, field)


def _same(field: str, live: Any, wanted: Any) -> bool:
    if field in ("subnets", "securityGroupIds", "instanceTypes"):
        return sorted(live or []) == sorted(wanted)
    if field == "instanceRole":
        # Batch answers with the profile's ARN; compare names.
        return (live or "").rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1]
    if field == "ec2Configuration":
        return [c.get("imageType") for c in live or []] == [c["imageType"] for c in wanted]
    if field == "launchTemplate":
        live = live or {}
        return (
            live.get("launchTemplateName") == wanted["launchTemplateName"]
            and str(live.get("version")) == wanted["version"]
        )
    return live == wanted


def _replacement_reasons(existing: dict) -> list[str]:
    """Why Batch cannot update this compute environment's hosts in place."""
    reasons = []
    resources = existing.get("computeResources", {})
    if existing.get("type") != "MANAGED" or resources.get("type") not in ("EC2", "SPOT"):
        reasons.append("it is not a managed EC2 compute environment")
    strategy = resources.get("allocationStrategy", "BEST_FIT")
    if strategy not in IN_PLACE_STRATEGIES:
        reasons.append(f"its allocation strategy {strategy} allows no in-place host updates")
    if "/aws-service-role/" not in (existing.get("serviceRole") or "/aws-service-role/"):
        reasons.append("it uses a custom service role instead of Batch's service-linked role")
    return reasons
