"""Doctor checks of the Batch hosts, found through the queues' compute environments: their
instance profile and role (trusted by EC2, AWS's ECS instance policy, the kit's S3 rights),
and the launch template version they boot from (the kit's user data: the AWS CLI and Docker's
data volume; IMDSv2 required; the data volume mapped). Also the role head jobs run as
(trusted by ECS tasks, with the kit's head-job rights: Nextflow submits its tasks with it)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from mantle.cloud.aws import names, policies, userdata
from mantle.cloud.aws.doctor import Check, failed, passed, step, warned
from mantle.cloud.aws.doctor_batch import compute_environments
from mantle.schemas.environments import CheckResult, CheckStatus

if TYPE_CHECKING:
    from mantle.cloud.aws.doctor import Doctor

KIT_FIX = "`mantle aws provision`, or cloudformation.yaml from the setup kit"
ECS_POLICY_NAME = policies.ECS_INSTANCE_MANAGED_POLICY.rsplit("/", 1)[1]


def checks() -> list[tuple[str, Check]]:
    return [
        ("instance role", check_instance_role),
        ("launch template", check_launch_template),
        ("head job role", check_head_job_role),
    ]


def _policy_fix(action: str, resource: str) -> str:
    return f"allow {action} on {resource} (platform-policy.json in the setup kit)"


# --- instance profile and role -------------------------------------------------------------


def check_instance_role(doctor: Doctor) -> CheckResult:
    _, found = compute_environments(doctor)
    refs = {ce.get("computeResources", {}).get("instanceRole"): ce for ce in found}
    refs.pop(None, None)
    if not refs:
        return warned("instance role", "not checked: no compute environment names one")
    results = [
        _check_profile(doctor, ref, ce["computeEnvironmentName"]) for ref, ce in refs.items()
    ]
    return next((r for r in results if r.status is not CheckStatus.passed), results[0])


def _check_profile(doctor: Doctor, profile_ref: str, compute_env: str) -> CheckResult:
    name, iam = "instance role", doctor.client("iam")
    profile_name = profile_ref.rsplit("/", 1)[-1]
    missing_profile = (
        f"create the instance profile {profile_name} holding the Batch instance role "
        f"({KIT_FIX}), or point {compute_env} at an existing one"
    )
    profile = step(
        "GetInstanceProfile",
        _policy_fix("iam:GetInstanceProfile", f"instance-profile/{profile_name}"),
        iam.get_instance_profile,
        fixes={"NoSuchEntity": missing_profile},
        InstanceProfileName=profile_name,
    )["InstanceProfile"]
    roles = profile.get("Roles", [])
    if not roles:
        return failed(
            name,
            f"instance profile {profile_name} (of {compute_env}) holds no role",
            f"aws iam add-role-to-instance-profile --instance-profile-name {profile_name} "
            "--role-name ROLE (the role made from instance-role-trust-policy.json)",
        )
    role = roles[0]["RoleName"]
    problem = _role_problem(doctor, role)
    if problem:
        return failed(name, *problem)
    return passed(
        name,
        f"{compute_env} uses instance profile {profile_name} with role {role}: trusted by EC2, "
        f"with {ECS_POLICY_NAME} and the kit's S3 rights",
    )


def _role_problem(doctor: Doctor, role: str) -> tuple[str, str] | None:
    """(message, fix) for the first thing wrong with the hosts' role, or None."""
    iam = doctor.client("iam")
    read_fix = _policy_fix("iam:GetRole and iam:List*RolePolicies", f"role/{role}")
    found = step("GetRole", read_fix, iam.get_role, RoleName=role)["Role"]
    trust = policies.parse_document(found.get("AssumeRolePolicyDocument")) or {}
    if not _trusts_ec2(trust):
        return (
            f"role {role} does not let EC2 assume it",
            f"aws iam update-assume-role-policy --role-name {role} "
            "--policy-document file://instance-role-trust-policy.json",
        )
    attached = step(
        "ListAttachedRolePolicies", read_fix, iam.list_attached_role_policies, RoleName=role
    )["AttachedPolicies"]
    if not any(p["PolicyArn"].endswith("/" + ECS_POLICY_NAME) for p in attached):
        ecs_arn = f"arn:aws:iam::aws:policy/{policies.ECS_INSTANCE_MANAGED_POLICY}"
        return (
            f"role {role} lacks {ECS_POLICY_NAME} (the ECS agent and image pulls need it)",
            f"aws iam attach-role-policy --role-name {role} --policy-arn {ecs_arn}",
        )
    arns = policies.Arns(doctor.env.region, doctor.env.account_id)
    required = policies.instance_s3_policy(doctor.env, arns)
    missing = policies.uncovered(required, _role_documents(doctor, role, attached))
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return (
            f"role {role} lacks {', '.join(missing[:3])}{more}",
            f"aws iam put-role-policy --role-name {role} --policy-name s3 "
            "--policy-document file://instance-role-s3-policy.json (setup kit)",
        )
    return None


def _trusts_ec2(trust: dict) -> bool:
    return _trusts(trust, "ec2.amazonaws.com")


def _trusts(trust: dict, service: str) -> bool:
    for statement in trust.get("Statement", []):
        services = statement.get("Principal", {}).get("Service", [])
        services = services if isinstance(services, list) else [services]
        if statement.get("Effect") == "Allow" and service in services:
            return True
    return False


# --- the head jobs' role -------------------------------------------------------------------


def check_head_job_role(doctor: Doctor) -> CheckResult:
    name, iam, env = "head job role", doctor.client("iam"), doctor.env
    role = names.resource_names(doctor.tenant, env.name).head_job_role
    read_fix = _policy_fix("iam:GetRole and iam:List*RolePolicies", f"role/{role}")
    missing = (
        f"create the role {role} ({KIT_FIX}): trusted by ecs-tasks.amazonaws.com, with "
        "head-job-role-policy.json from the setup kit"
    )
    found = step("GetRole", read_fix, iam.get_role, fixes={"NoSuchEntity": missing}, RoleName=role)
    trust = policies.parse_document(found["Role"].get("AssumeRolePolicyDocument")) or {}
    if not _trusts(trust, "ecs-tasks.amazonaws.com"):
        return failed(
            name,
            f"role {role} does not let ECS tasks assume it: head jobs cannot run as it",
            f"aws iam update-assume-role-policy --role-name {role} --policy-document "
            '\'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            '{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}\'',
        )
    attached = step(
        "ListAttachedRolePolicies", read_fix, iam.list_attached_role_policies, RoleName=role
    )["AttachedPolicies"]
    arns = policies.Arns(env.region, env.account_id)
    required = policies.head_job_policy(env, arns)
    lacking = policies.uncovered(required, _role_documents(doctor, role, attached))
    if lacking:
        more = f" and {len(lacking) - 3} more" if len(lacking) > 3 else ""
        return failed(
            name,
            f"role {role} lacks {', '.join(lacking[:3])}{more} (Nextflow's head job needs them)",
            f"aws iam put-role-policy --role-name {role} --policy-name nextflow-head-job "
            "--policy-document file://head-job-role-policy.json (setup kit)",
        )
    return passed(name, f"head jobs run as {role}: trusted by ECS tasks, with the kit's rights")


def _role_documents(doctor: Doctor, role: str, attached: list[dict]) -> list[dict]:
    """The role's inline policies and its customer-managed ones (AWS's are not S3 rights)."""
    iam, read_fix = doctor.client("iam"), _policy_fix("iam:GetRolePolicy", f"role/{role}")
    names = step("ListRolePolicies", read_fix, iam.list_role_policies, RoleName=role)
    documents = [
        step("GetRolePolicy", read_fix, iam.get_role_policy, RoleName=role, PolicyName=n)[
            "PolicyDocument"
        ]
        for n in names["PolicyNames"]
    ]
    policy_fix = _policy_fix("iam:GetPolicy and iam:GetPolicyVersion", "policy/*")
    for policy in attached:
        if ":iam::aws:policy/" in policy["PolicyArn"]:
            continue
        arn = policy["PolicyArn"]
        version = step("GetPolicy", policy_fix, iam.get_policy, PolicyArn=arn)["Policy"]
        documents.append(
            step(
                "GetPolicyVersion",
                policy_fix,
                iam.get_policy_version,
                PolicyArn=arn,
                VersionId=version["DefaultVersionId"],
            )["PolicyVersion"]["Document"]
        )
    return [policies.parse_document(d) for d in documents]


# --- launch template -----------------------------------------------------------------------


def check_launch_template(doctor: Doctor) -> CheckResult:
    _, found = compute_environments(doctor)
    specs = [ce["computeResources"]["launchTemplate"] for ce in found if _template_of(ce)]
    if not specs:
        return warned("launch template", "not checked: no compute environment names one")
    results = [_check_template(doctor, spec) for spec in specs]
    worst = {CheckStatus.fail: 0, CheckStatus.warn: 1, CheckStatus.passed: 2}
    return min(results, key=lambda r: worst[r.status])


def _template_of(ce: dict) -> dict | None:
    return ce.get("computeResources", {}).get("launchTemplate")


def _check_template(doctor: Doctor, spec: dict) -> CheckResult:
    name, ec2 = "launch template", doctor.client("ec2")
    which = (
        {"LaunchTemplateName": spec["launchTemplateName"]}
        if spec.get("launchTemplateName")
        else {"LaunchTemplateId": spec.get("launchTemplateId")}
    )
    label = next(iter(which.values()))
    version = str(spec.get("version") or "$Default")
    gone = (
        f"create the launch template {label} ({KIT_FIX}), or point the compute environment at one"
    )
    versions = step(
        "DescribeLaunchTemplateVersions",
        _policy_fix("ec2:DescribeLaunchTemplateVersions", "*"),
        ec2.describe_launch_template_versions,
        fixes={
            "InvalidLaunchTemplateName.NotFoundException": gone,
            "InvalidLaunchTemplateId.NotFound": gone,
            "InvalidLaunchTemplateId.VersionNotFound": gone,
        },
        Versions=[version],
        **which,
    )["LaunchTemplateVersions"]
    data = versions[0].get("LaunchTemplateData", {}) if versions else {}
    where = f"{label} version {version}"
    rollout = f"{KIT_FIX} makes a new version from the kit and rolls it out to the hosts"
    problems = _template_problems(doctor, data)
    if problems:
        return failed(name, f"{where}: {'; '.join(problems)}", rollout)
    if _user_data(data) != userdata.user_data(doctor.env):
        return warned(
            name,
            f"{where} installs the AWS CLI and mounts the Docker volume, but its user data "
            "differs from the kit's (an older kit, or edited by hand)",
            rollout,
        )
    return passed(name, f"{where}: the kit's user data, IMDSv2 required, Docker volume mapped")


def _user_data(data: dict) -> str:
    try:
        return base64.b64decode(data.get("UserData", "")).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _template_problems(doctor: Doctor, data: dict) -> list[str]:
    problems = []
    if data.get("MetadataOptions", {}).get("HttpTokens") != "required":
        problems.append("IMDSv2 is not required (MetadataOptions HttpTokens)")
    script = _user_data(data)
    if f"{doctor.env.cli_path} --version" not in script:
        problems.append(f"its user data does not install the AWS CLI at {doctor.env.cli_path}")
    if f"LABEL={userdata.DATA_LABEL} {userdata.DOCKER_STORAGE}" not in script:
        problems.append(
            f"its user data does not mount Docker's volume at {userdata.DOCKER_STORAGE}"
        )
    devices = [m.get("DeviceName") for m in data.get("BlockDeviceMappings", [])]
    if userdata.DATA_DEVICE not in devices:
        problems.append(f"no Docker volume is mapped at {userdata.DATA_DEVICE}")
    return problems
