"""Doctor checks beyond S3: the Batch job queues and their compute environments, registering
a job definition, reading the CloudWatch log group, and ECR when pipelines pull from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mantle.aws.errors import describe
from mantle.cloud.aws import names
from mantle.cloud.aws.compute import IMAGE_TYPE
from mantle.cloud.aws.doctor import Check, StepFailed, failed, passed, step, warned
from mantle.schemas.environments import CheckResult

if TYPE_CHECKING:
    from mantle.cloud.aws.doctor import Doctor

PROVISION_FIX = "create it with cloudformation.yaml from the setup kit or `mantle aws provision`"


def checks(doctor: Doctor) -> list[tuple[str, Check]]:
    env = doctor.env
    found: list[tuple[str, Check]] = [(f"queue {q}", _queue_check(q)) for q in env.queues]
    found += [
        ("compute environments", check_compute_environments),
        ("job definition", check_job_definition),
        ("head image", check_head_image),
        (f"logs {env.log_group}", check_logs),
    ]
    if env.use_ecr:
        found.append(("ecr", check_ecr))
    return found


def _describe_queue(doctor: Doctor, queue: str) -> dict | None:
    batch = doctor.client("batch")
    fix = "allow batch:DescribeJobQueues (platform-policy.json in the setup kit)"
    found = step("DescribeJobQueues", fix, batch.describe_job_queues, jobQueues=[queue])
    queues = found.get("jobQueues", [])
    return queues[0] if queues else None


def _queue_check(queue: str) -> Check:
    def check(doctor: Doctor) -> CheckResult:
        name, region = f"queue {queue}", doctor.env.region
        found = _describe_queue(doctor, queue)
        if found is None:
            return failed(
                name,
                f"no job queue {queue} in {region}",
                f"{PROVISION_FIX}, or correct the environment's queue name",
            )
        if found.get("state") != "ENABLED":
            return failed(
                name,
                f"job queue {queue} is {found.get('state')}: no job will start",
                f"aws batch update-job-queue --region {region} --job-queue {queue} --state ENABLED",
            )
        if found.get("status") != "VALID":
            reason = found.get("statusReason") or "no reason given"
            return failed(
                name,
                f"job queue {queue} is {found.get('status')}: {reason}",
                "fix the cause in the AWS Batch console, or recreate the queue",
            )
        return passed(name, f"job queue {queue} is ENABLED and VALID")

    return check


def compute_environments(doctor: Doctor) -> tuple[list[str], list[dict]]:
    """The names the queues point at, and those Batch describes."""
    wanted: list[str] = []
    for queue in doctor.env.queues:
        found = _describe_queue(doctor, queue)
        for entry in (found or {}).get("computeEnvironmentOrder", []):
            wanted.append(entry["computeEnvironment"])
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return [], []
    batch = doctor.client("batch")
    fix = "allow batch:DescribeComputeEnvironments (platform-policy.json in the setup kit)"
    found = step(
        "DescribeComputeEnvironments",
        fix,
        batch.describe_compute_environments,
        computeEnvironments=wanted,
    )["computeEnvironments"]
    return wanted, found


def check_compute_environments(doctor: Doctor) -> CheckResult:
    name, region = "compute environments", doctor.env.region
    wanted, found = compute_environments(doctor)
    if not wanted:
        return failed(name, "the job queues have no compute environment", PROVISION_FIX)
    if len(found) < len(wanted):
        gone = len(wanted) - len(found)
        return failed(name, f"{gone} of the queues' compute environments are gone", PROVISION_FIX)
    disabled = [ce["computeEnvironmentName"] for ce in found if ce.get("state") != "ENABLED"]
    problems = [p for ce in found for p in _compute_problems(ce)]
    if problems:
        return failed(name, "; ".join(problems), "fix the cause shown, then " + PROVISION_FIX)
    if disabled:
        commands = " and ".join(
            f"aws batch update-compute-environment --region {region} --compute-environment "
            f"{ce} --state ENABLED"
            for ce in disabled
        )
        return failed(
            name,
            f"{', '.join(disabled)} DISABLED: no host will start",
            f"update it to ENABLED: {commands} (or `mantle aws provision`)",
        )
    return _compute_warnings(found)


def _compute_warnings(found: list[dict]) -> CheckResult:
    name = "compute environments"
    low = [ce["computeEnvironmentName"] for ce in found if _min_vcpus(ce) > 0]
    other_images = [ce["computeEnvironmentName"] for ce in found if _image_type(ce) != IMAGE_TYPE]
    if other_images:
        return warned(
            name,
            f"{', '.join(other_images)} do not pin image type {IMAGE_TYPE}, which the launch "
            "template's user data is written for",
            f"set ec2Configuration imageType {IMAGE_TYPE} (`mantle aws provision` does)",
        )
    if low:
        return warned(
            name,
            f"{', '.join(low)} keep idle hosts running (minvCpus > 0)",
            "set minvCpus to 0 unless you want warm hosts",
        )
    listed = ", ".join(ce["computeEnvironmentName"] for ce in found)
    return passed(name, f"{listed}: ENABLED, VALID, {IMAGE_TYPE}, with a launch template")


def _min_vcpus(ce: dict) -> int:
    return int(ce.get("computeResources", {}).get("minvCpus", 0))


def _image_type(ce: dict) -> str | None:
    configuration = ce.get("computeResources", {}).get("ec2Configuration") or [{}]
    return configuration[0].get("imageType")


def _compute_problems(ce: dict) -> list[str]:
    """What only a repair of the cause helps (a disabled one is just to be enabled)."""
    label, problems = ce["computeEnvironmentName"], []
    if ce.get("status") != "VALID":
        problems.append(f"{label} is {ce.get('status')} ({ce.get('statusReason') or 'no reason'})")
    if not ce.get("computeResources", {}).get("launchTemplate"):
        problems.append(f"{label} has no launch template (no AWS CLI, no Docker volume)")
    return problems


def check_job_definition(doctor: Doctor) -> CheckResult:
    env, batch = doctor.env, doctor.client("batch")
    definition = names.resource_names(doctor.tenant, env.name).doctor_job_definition
    fix = (
        "allow batch:RegisterJobDefinition and batch:DeregisterJobDefinition on "
        f"job-definition/{names.PLATFORM_JOB_DEFINITION_PREFIX}* (platform-policy.json)"
    )
    registered = step(
        "RegisterJobDefinition",
        fix,
        batch.register_job_definition,
        jobDefinitionName=definition,
        type="container",
        containerProperties={
            "image": env.head_image,
            "command": ["true"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    arn = registered["jobDefinitionArn"]
    step("DeregisterJobDefinition", fix, batch.deregister_job_definition, jobDefinition=arn)
    return passed("job definition", f"registered and deregistered {definition}")


# Images that have Nextflow but not Mantle's launcher: a head job on them fails at once.
STOCK_NEXTFLOW_IMAGES = ("nextflow/nextflow", "docker.io/nextflow/nextflow", "quay.io/nextflow/")


def check_head_image(doctor: Doctor) -> CheckResult:
    image = doctor.env.head_image
    if image.startswith(STOCK_NEXTFLOW_IMAGES):
        return failed(
            "head image",
            f"{image} has Nextflow but not Mantle's launcher: every run's head job would fail "
            "as it starts",
            "build docker/head-job.Dockerfile, push it (docker/README.md) and set the "
            "environment's head image: mantle aws environments update ENV --head-image IMAGE",
        )
    return passed("head image", f"head jobs run {image}")


def check_logs(doctor: Doctor) -> CheckResult:
    env, logs = doctor.env, doctor.client("logs")
    name = f"logs {env.log_group}"
    fix = f"allow logs:DescribeLogStreams and logs:GetLogEvents on {env.log_group}"
    try:
        streams = logs.describe_log_streams(
            logGroupName=env.log_group, orderBy="LastEventTime", descending=True, limit=1
        )["logStreams"]
    except Exception as e:  # noqa: BLE001 - sorted below
        if describe(e).code != "ResourceNotFoundException":
            raise StepFailed("DescribeLogStreams", e, fix) from e
        return warned(
            name,
            f"log group {env.log_group} does not exist yet; AWS Batch creates "
            "it with the first job",
        )
    if not streams:
        return passed(name, f"log group {env.log_group} is readable (no job logs yet)")
    stream = streams[0]["logStreamName"]
    step(
        "GetLogEvents",
        fix,
        logs.get_log_events,
        logGroupName=env.log_group,
        logStreamName=stream,
        limit=1,
    )
    return passed(name, f"read the latest job log in {env.log_group}")


def check_ecr(doctor: Doctor) -> CheckResult:
    ecr = doctor.client("ecr")
    fix = "allow ecr:GetAuthorizationToken (platform-policy.json, with use_ecr)"
    token = step("GetAuthorizationToken", fix, ecr.get_authorization_token)
    endpoint = token["authorizationData"][0].get("proxyEndpoint", "ECR")
    return passed("ecr", f"logged in to {endpoint}")
