"""The IAM steps of the provisioner: the Batch instance role (the ECS managed policy and the
kit's inline policies) with its instance profile, and the head job role. Each role is created
when missing, and otherwise brought in line: trust policy, inline policies, attached policies
and tags are compared and only differences are written. Inline policies Mantle wrote in the
past and no longer grants (`OBSOLETE_INLINE`) are deleted; any others are the customer's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mantle.aws.errors import cloud_error, describe
from mantle.cloud.aws import names, policies
from mantle.schemas.environments import ProvisionAction

if TYPE_CHECKING:
    from mantle.cloud.aws.provision import ProvisionSpec

# The platform policy cannot create roles; the kit's provisioner policy can, for the run.
DENIED_HINT = "attach provisioner-policy.json (setup kit) to the credentials for this run"
# amazon-ebs-autoscale's EC2 volume rights, from before the launch template's Docker volume.
OBSOLETE_INLINE = ("ebs-autoscale",)


class IamSteps:
    def __init__(self, iam: Any, spec: ProvisionSpec, resource_names, call: Callable) -> None:
        self.iam, self.spec, self.names, self.call = iam, spec, resource_names, call
        self.tag_list = names.tag_list(spec.tenant, spec.env.name)
        self.arns = policies.Arns(spec.env.region, spec.env.account_id)

    def run(self, *, dry_run: bool) -> list[ProvisionAction]:
        env, arns = self.spec.env, self.arns
        instance = self.ensure_role(
            self.names.instance_role,
            trust=policies.service_trust_policy("ec2.amazonaws.com"),
            inline=policies.instance_inline_policies(env, arns),
            managed=[self._aws_managed(policies.ECS_INSTANCE_MANAGED_POLICY)],
            dry_run=dry_run,
        )
        profile = self.ensure_instance_profile(dry_run)
        head = self.ensure_role(
            self.names.head_job_role,
            trust=policies.service_trust_policy("ecs-tasks.amazonaws.com"),
            inline={"nextflow-head-job": policies.head_job_policy(env, arns)},
            managed=[],
            dry_run=dry_run,
        )
        return [instance, profile, head]

    def _aws_managed(self, name: str) -> str:
        return f"arn:{self.arns.partition}:iam::aws:policy/{name}"

    def _get(self, doing: str, fn: Callable, **kwargs) -> dict | None:
        """A lookup that answers None when IAM says the entity does not exist."""
        try:
            return fn(**kwargs)
        except Exception as e:
            if describe(e).code == "NoSuchEntity":
                return None
            raise cloud_error(e, doing, self.spec.secrets, denied_hint=DENIED_HINT) from e

    # --- roles ----------------------------------------------------------------------------

    def ensure_role(
        self, name: str, *, trust: dict, inline: dict, managed: list[str], dry_run: bool
    ) -> ProvisionAction:
        found = self._get(f"looking up the role {name}", self.iam.get_role, RoleName=name)
        if found is None:
            if not dry_run:
                self.call(
                    f"creating the role {name}",
                    self.iam.create_role,
                    RoleName=name,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    Tags=self.tag_list,
                )
                self._put_policies(name, inline)
                self._attach(name, managed)
            return ProvisionAction(resource="IAM role", name=name, action="create")
        changes = self._role_changes(name, found["Role"], trust, inline, managed, dry_run)
        return ProvisionAction(
            resource="IAM role",
            name=name,
            action="update" if changes else "none",
            detail="; ".join(changes),
        )

    def _role_changes(self, name, role, trust, inline, managed, dry_run) -> list[str]:
        changes = []
        if policies.parse_document(role.get("AssumeRolePolicyDocument")) != trust:
            changes.append("trust policy")
            if not dry_run:
                self.call(
                    f"updating the trust policy of {name}",
                    self.iam.update_assume_role_policy,
                    RoleName=name,
                    PolicyDocument=json.dumps(trust),
                )
        stale = {k: v for k, v in inline.items() if self._inline(name, k) != v}
        changes += [f"policy {k}" for k in stale]
        obsolete = [k for k in OBSOLETE_INLINE if self._inline(name, k) is not None]
        changes += [f"delete policy {k}" for k in obsolete]
        attached = self.call(
            f"listing the policies of {name}", self.iam.list_attached_role_policies, RoleName=name
        )
        have = {p["PolicyArn"] for p in attached["AttachedPolicies"]}
        missing = [arn for arn in managed if arn not in have]
        changes += [f"attach {arn.rsplit('/', 1)[1]}" for arn in missing]
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        untagged = any(tags.get(t["Key"]) != t["Value"] for t in self.tag_list)
        if untagged:
            changes.append("tags")
        if not dry_run:
            self._put_policies(name, stale)
            for policy in obsolete:
                self.call(
                    f"deleting the policy {policy} of {name}",
                    self.iam.delete_role_policy,
                    RoleName=name,
                    PolicyName=policy,
                )
            self._attach(name, missing)
            if untagged:
                self.call(f"tagging {name}", self.iam.tag_role, RoleName=name, Tags=self.tag_list)
        return changes

    def _inline(self, role: str, policy: str) -> dict | None:
        found = self._get(
            f"reading the policy {policy} of {role}",
            self.iam.get_role_policy,
            RoleName=role,
            PolicyName=policy,
        )
        return policies.parse_document(found["PolicyDocument"]) if found else None

    def _put_policies(self, role: str, documents: dict[str, dict]) -> None:
        for policy, document in documents.items():
            self.call(
                f"writing the policy {policy} of {role}",
                self.iam.put_role_policy,
                RoleName=role,
                PolicyName=policy,
                PolicyDocument=json.dumps(document),
            )

    def _attach(self, role: str, arns: list[str]) -> None:
        for arn in arns:
            self.call(
                f"attaching {arn} to {role}",
                self.iam.attach_role_policy,
                RoleName=role,
                PolicyArn=arn,
            )

    # --- instance profile -----------------------------------------------------------------

    def _profile(self) -> dict | None:
        name = self.names.instance_role
        found = self._get(
            "looking up the instance profile",
            self.iam.get_instance_profile,
            InstanceProfileName=name,
        )
        return found["InstanceProfile"] if found else None

    def instance_profile_arn(self) -> str:
        return self._profile()["Arn"]

    def instance_profile_ref(self) -> str:
        """The profile's ARN, or its name while a dry run has not created it."""
        profile = self._profile()
        return profile["Arn"] if profile else self.names.instance_role

    def ensure_instance_profile(self, dry_run: bool) -> ProvisionAction:
        name, resource = self.names.instance_role, "instance profile"
        profile = self._profile()
        if profile is None:
            if not dry_run:
                self.call(
                    "creating the instance profile",
                    self.iam.create_instance_profile,
                    InstanceProfileName=name,
                    Tags=self.tag_list,
                )
                self._add_role(name)
            return ProvisionAction(resource=resource, name=name, action="create")
        if name in [r["RoleName"] for r in profile.get("Roles", [])]:
            return ProvisionAction(resource=resource, name=name, action="none")
        if not dry_run:
            self._add_role(name)
        return ProvisionAction(resource=resource, name=name, action="update", detail="add role")

    def _add_role(self, name: str) -> None:
        self.call(
            "adding the role to the instance profile",
            self.iam.add_role_to_instance_profile,
            InstanceProfileName=name,
            RoleName=name,
        )
