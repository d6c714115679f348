"""Failed AWS Batch and CloudWatch Logs calls as `CloudError`s a person can act on: AWS's own
code and message, whether waiting helps, and for permanent failures the fix in the words the
`mantle aws doctor` and the setup kit use (executors may not import `cloud/`, so the hints
are written here)."""

from __future__ import annotations

from mantle.aws.errors import AwsProblem
from mantle.errors import CloudError

POLICY_HINT = "platform-policy.json in the setup kit; `mantle aws doctor` shows what is missing"
_DENIED_HINTS = {
    "SubmitJob": "allow batch:SubmitJob on the head queue and job-definition/mantle-* "
    f"({POLICY_HINT})",
    "RegisterJobDefinition": "allow batch:RegisterJobDefinition on job-definition/mantle-* "
    f"and iam:PassRole on the head job role ({POLICY_HINT})",
    "DescribeJobs": f"allow batch:DescribeJobs ({POLICY_HINT})",
    "DescribeJobDefinitions": f"allow batch:DescribeJobDefinitions ({POLICY_HINT})",
    "TerminateJob": f"allow batch:TerminateJob on job/* ({POLICY_HINT})",
    "GetLogEvents": f"allow logs:GetLogEvents on the log group ({POLICY_HINT})",
}


def definition_refused(error: CloudError) -> bool:
    details = error.details if isinstance(error.details, dict) else {}
    refused = details.get("aws_code") == "ClientException"
    return refused and "definition" in str(details.get("aws_message", "")).lower()


def batch_error(problem: AwsProblem, operation: str, doing: str) -> CloudError:
    """The CloudError for a failed call: AWS's code and message, and what to do about it."""
    message = f"AWS failed while {doing}: {problem}"
    hint = _hint(problem, operation)
    if hint:
        message = f"{message}; {hint}"
    details = {
        "retryable": problem.retryable,
        "aws_code": problem.code,
        "aws_message": problem.message,
        "operation": operation,
    }
    return CloudError(message, retryable=problem.retryable, details=details)


def _hint(problem: AwsProblem, operation: str) -> str:
    text = problem.message.lower()
    if problem.retryable:
        return "temporary: Mantle tries again"
    if problem.denied:
        return _DENIED_HINTS.get(operation, f"check the platform policy ({POLICY_HINT})")
    if problem.bad_credentials:
        return (
            "the environment's AWS credentials were refused: update them, then run "
            "`mantle aws doctor`"
        )
    if problem.code == "ClientException" and "queue" in text:
        return (
            "check the environment's queue names (the queue must exist in this region and be "
            "ENABLED); `mantle aws doctor` checks them"
        )
    if problem.code == "ClientException" and (
        "definition" in text or operation.endswith("Definition")
    ):
        return (
            "the head job definition was refused: check the environment's head image, vCPUs, "
            "memory and job role; `mantle aws doctor` registers a test definition"
        )
    return ""
