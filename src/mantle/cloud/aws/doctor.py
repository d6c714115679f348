"""`mantle aws doctor`: checks an environment's live AWS setup, each check answering pass, warn
or fail with a one-line fix. Checks never raise: an AWS error becomes a failed check whose
message is redacted and says whether trying again can help, and whose fix follows AWS's
error code (a missing bucket is to be created, a refused call needs a policy statement).
Probes clean up after themselves even when a later step fails (the test object is deleted,
the multipart upload aborted, the job definition deregistered).

S3 checks are in this module; Batch, CloudWatch Logs and ECR checks in `doctor_batch`; the
Batch hosts' role, instance profile and launch template in `doctor_hosts`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from mantle.aws.connect import AwsConnection
from mantle.aws.errors import describe
from mantle.cloud.aws import cors
from mantle.schemas.environments import (
    CheckResult,
    CheckStatus,
    CredentialKind,
    DoctorReport,
    EnvironmentPublic,
)

PROBE_FOLDER = ".mantle-doctor"


@dataclass(frozen=True)
class Doctor:
    env: EnvironmentPublic
    conn: AwsConnection
    origin: str  # the web UI's origin, which bucket CORS rules must allow
    tenant: str
    secrets: tuple[str, ...] = field(default=(), repr=False)  # redacted from every message

    def client(self, service: str):
        return self.conn.client(service)


Check = Callable[[Doctor], CheckResult]


def passed(name: str, message: str) -> CheckResult:
    return CheckResult(name=name, status=CheckStatus.passed, message=message)


def warned(name: str, message: str, fix: str = "") -> CheckResult:
    return CheckResult(name=name, status=CheckStatus.warn, message=message, fix=fix)


def failed(name: str, message: str, fix: str) -> CheckResult:
    return CheckResult(name=name, status=CheckStatus.fail, message=message, fix=fix)


class StepFailed(Exception):
    """An AWS call inside a check failed; `fix` says what to change, unless `fixes` has a
    better one for AWS's error code."""

    def __init__(
        self, step: str, error: Exception, fix: str, fixes: dict[str, str] | None = None
    ) -> None:
        super().__init__(step)
        self.step, self.error, self.fix, self.fixes = step, error, fix, fixes or {}


def step(name: str, fix: str, call: Callable, /, *, fixes: dict[str, str] | None = None, **kw):
    """Run one AWS call of a check, labelling its failure with what was being done. `fix` is
    for a refused call (the policy statement it needs); `fixes` maps other error codes."""
    try:
        return call(**kw)
    except Exception as e:  # noqa: BLE001 - every failure becomes a check result
        raise StepFailed(name, e, fix, fixes) from e


def guarded(doctor: Doctor, name: str, check: Callable[[], CheckResult]) -> CheckResult:
    try:
        return check()
    except StepFailed as e:
        problem = describe(e.error, doctor.secrets)
        if problem.retryable:
            fix = "a temporary AWS error: run the doctor again in a minute"
        else:
            fix = e.fixes.get(problem.code, e.fix)
        return CheckResult(
            name=name,
            status=CheckStatus.fail,
            message=f"{e.step} failed: {problem}",
            fix=fix,
            retryable=problem.retryable,
        )
    except Exception as e:  # noqa: BLE001 - a check must never take the report down
        problem = describe(e, doctor.secrets)
        return failed(name, f"unexpected error: {problem}", "report this to your Mantle operator")


def run(doctor: Doctor) -> DoctorReport:
    """Every check, in order. Without valid credentials nothing else can be checked."""
    from mantle.cloud.aws import doctor_batch, doctor_hosts

    results = [guarded(doctor, "credentials", lambda: check_credentials(doctor))]
    if results[0].status is not CheckStatus.fail:
        checks = [*s3_checks(doctor), *doctor_batch.checks(doctor), *doctor_hosts.checks()]
        for name, check in checks:
            results.append(guarded(doctor, name, lambda check=check: check(doctor)))
    ok = all(r.status is not CheckStatus.fail for r in results)
    return DoctorReport(environment=doctor.env.name, ok=ok, checks=results)


# --- credentials ---------------------------------------------------------------------------


def credentials_fix(env: EnvironmentPublic) -> str:
    creds = env.credentials
    if creds.kind is CredentialKind.role:
        return (
            f"check that {creds.role_arn} trusts the Mantle server with external id "
            f"{creds.external_id} (platform-trust-policy.json in the setup kit)"
        )
    if creds.kind is CredentialKind.keys:
        return (
            "check that the access key is active and belongs to the environment's account; "
            f"replace it with `mantle aws environments update {env.name} --access-key-id ...`"
        )
    return "check the Mantle server's own AWS credentials (environment, profile or role)"


def check_credentials(doctor: Doctor) -> CheckResult:
    env = doctor.env
    sts = doctor.client("sts")
    identity = step("GetCallerIdentity", credentials_fix(env), sts.get_caller_identity)
    if identity["Account"] != env.account_id:
        return failed(
            "credentials",
            f"the credentials belong to account {identity['Account']}, the environment to "
            f"{env.account_id}",
            "use credentials of the environment's account, or correct its account_id",
        )
    return passed("credentials", f"authenticated as {identity['Arn']}")


# --- S3 ------------------------------------------------------------------------------------


def s3_checks(doctor: Doctor) -> list[tuple[str, Check]]:
    env = doctor.env
    found: list[tuple[str, Check]] = []
    buckets = list(dict.fromkeys([env.write_bucket, *(r.bucket for r in env.read_buckets)]))
    for bucket in buckets:
        found.append((f"bucket {bucket}", _location_check(bucket)))
    for read in env.read_buckets:
        found.append((f"read {read.bucket}", _read_check(read.bucket, read.prefix)))
    found += [
        (f"list {env.write_bucket}", check_list_write_prefix),
        (f"write {env.write_bucket}", check_write),
        (f"multipart {env.write_bucket}", check_multipart),
        (f"cors {env.write_bucket}", _cors_check(env.write_bucket, cors.WRITE_METHODS, etag=True)),
    ]
    for bucket in dict.fromkeys(r.bucket for r in env.read_buckets):
        if bucket != env.write_bucket:
            found.append((f"cors {bucket}", _cors_check(bucket, cors.READ_METHODS, etag=False)))
    return found


def _policy_fix(action: str, resource: str) -> str:
    return f"allow {action} on {resource} (platform-policy.json in the setup kit)"


def bucket_fixes(doctor: Doctor, bucket: str) -> dict[str, str]:
    """Fixes by S3 error code, for any call on `bucket`."""
    region = doctor.env.region
    return {
        "NoSuchBucket": f"create the bucket {bucket} in {region} (CreateWriteBucket=true or "
        "CreateReadBuckets=true in cloudformation.yaml), or correct the environment's "
        "bucket name",
        "PermanentRedirect": f"use a bucket in {region}, or correct the environment's region",
        "AuthorizationHeaderMalformed": f"use a bucket in {region}, or correct the region",
    }


def _location_check(bucket: str) -> Check:
    def check(doctor: Doctor) -> CheckResult:
        name, region = f"bucket {bucket}", doctor.env.region
        s3 = doctor.client("s3")
        found = step(
            "GetBucketLocation",
            _policy_fix("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"),
            s3.get_bucket_location,
            fixes=bucket_fixes(doctor, bucket),
            Bucket=bucket,
        )
        location = found.get("LocationConstraint") or "us-east-1"
        location = "eu-west-1" if location == "EU" else location  # S3's legacy name
        if location == region:
            return passed(name, f"s3://{bucket} exists in {region}")
        message = f"s3://{bucket} is in {location}, the environment runs in {region}"
        if bucket != doctor.env.write_bucket:
            # Reading across regions works, only slower and billed: the customer may choose it.
            return warned(
                name,
                f"{message}: reads cross regions (slower, and billed as data transfer)",
                f"copy the data to a bucket in {region} if pipelines read it often",
            )
        return failed(
            name,
            message,
            f"use a write bucket in {region} (work files and outputs must stay in the "
            "environment's region), or change the environment's region",
        )

    return check


def _under(prefix: str, *parts: str) -> str:
    return "/".join(p for p in (prefix, *parts) if p)


def _read_check(bucket: str, prefix: str) -> Check:
    def check(doctor: Doctor) -> CheckResult:
        name, where = f"read {bucket}", f"s3://{_under(bucket, prefix)}/"
        s3 = doctor.client("s3")
        listing = step(
            "ListObjectsV2",
            _policy_fix("s3:ListBucket", f"arn:aws:s3:::{bucket}") + " for this prefix",
            s3.list_objects_v2,
            fixes=bucket_fixes(doctor, bucket),
            Bucket=bucket,
            Prefix=_under(prefix) + "/" if prefix else "",
            MaxKeys=1,
        )
        objects = listing.get("Contents", [])
        if not objects:
            return warned(name, f"{where} lists, but is empty: reading was not tested")
        first = objects[0]
        # A one-byte range keeps the probe cheap; an empty object refuses every range.
        extra = {"Range": "bytes=0-0"} if first.get("Size", 0) > 0 else {}
        fix = _policy_fix("s3:GetObject", f"arn:aws:s3:::{_under(bucket, prefix)}/*")
        body = step("GetObject", fix, s3.get_object, Bucket=bucket, Key=first["Key"], **extra)
        body["Body"].read()
        return passed(name, f"listed and read {where}")

    return check


def _probe_key(env: EnvironmentPublic, suffix: str = "") -> str:
    return _under(env.write_prefix, PROBE_FOLDER, uuid.uuid4().hex + suffix)


def _write_fixes(doctor: Doctor, action: str) -> tuple[str, dict[str, str]]:
    env = doctor.env
    objects = f"arn:aws:s3:::{_under(env.write_bucket, env.write_prefix)}/*"
    return _policy_fix(action, objects), bucket_fixes(doctor, env.write_bucket)


def check_list_write_prefix(doctor: Doctor) -> CheckResult:
    """Listing under the write prefix (Nextflow lists its work directory; the policy allows
    listing only with `s3:prefix` under it)."""
    env, s3 = doctor.env, doctor.client("s3")
    prefix = _under(env.write_prefix) + "/" if env.write_prefix else ""
    condition = f" with s3:prefix {prefix}*" if prefix else ""
    step(
        "ListObjectsV2",
        _policy_fix("s3:ListBucket", f"arn:aws:s3:::{env.write_bucket}") + condition,
        s3.list_objects_v2,
        fixes=bucket_fixes(doctor, env.write_bucket),
        Bucket=env.write_bucket,
        Prefix=prefix,
        MaxKeys=1,
    )
    return passed(f"list {env.write_bucket}", f"listed s3://{env.write_bucket}/{prefix}")


def check_write(doctor: Doctor) -> CheckResult:
    env, s3 = doctor.env, doctor.client("s3")
    key = _probe_key(env)
    content = f"mantle doctor probe {key}".encode()
    fix, fixes = _write_fixes(doctor, "s3:PutObject")
    step(
        "PutObject", fix, s3.put_object, fixes=fixes, Bucket=env.write_bucket, Key=key, Body=content
    )
    try:
        fix, fixes = _write_fixes(doctor, "s3:GetObject")
        got = step("GetObject", fix, s3.get_object, fixes=fixes, Bucket=env.write_bucket, Key=key)
        read_back = got["Body"].read()
    finally:
        fix, fixes = _write_fixes(doctor, "s3:DeleteObject")
        step("DeleteObject", fix, s3.delete_object, Bucket=env.write_bucket, Key=key)
    if read_back != content:
        return failed(
            f"write {env.write_bucket}",
            "the probe object read back with different content",
            "check for a proxy or S3-compatible endpoint rewriting objects",
        )
    where = f"s3://{_under(env.write_bucket, env.write_prefix)}/"
    return passed(f"write {env.write_bucket}", f"wrote, read and deleted a probe under {where}")


def check_multipart(doctor: Doctor) -> CheckResult:
    """Start a multipart upload, send one part, abort: the abort runs whatever failed."""
    env, s3 = doctor.env, doctor.client("s3")
    key = _probe_key(env, "-multipart")
    fix, fixes = _write_fixes(doctor, "s3:PutObject")
    upload = step(
        "CreateMultipartUpload",
        fix,
        s3.create_multipart_upload,
        fixes=fixes,
        Bucket=env.write_bucket,
        Key=key,
    )
    where = {"Bucket": env.write_bucket, "Key": key, "UploadId": upload["UploadId"]}
    try:
        step("UploadPart", fix, s3.upload_part, PartNumber=1, Body=b"mantle doctor", **where)
    finally:
        fix, _ = _write_fixes(doctor, "s3:AbortMultipartUpload")
        step("AbortMultipartUpload", fix, s3.abort_multipart_upload, **where)
    return passed(
        f"multipart {env.write_bucket}", "started, uploaded to and aborted a multipart upload"
    )


def _cors_check(bucket: str, methods: tuple[str, ...], *, etag: bool) -> Check:
    def check(doctor: Doctor) -> CheckResult:
        name = f"cors {bucket}"
        kit_file = "cors-write-bucket.json" if etag else "cors-read-buckets.json"
        fix = (
            f"aws s3api put-bucket-cors --bucket {bucket} "
            f"--cors-configuration file://{kit_file} (from the setup kit)"
        )
        s3 = doctor.client("s3")
        try:
            live = s3.get_bucket_cors(Bucket=bucket).get("CORSRules", [])
        except Exception as e:  # noqa: BLE001 - sorted below
            if describe(e).code != "NoSuchCORSConfiguration":
                raise StepFailed("GetBucketCors", e, _policy_fix("s3:GetBucketCORS", bucket)) from e
            return failed(name, f"s3://{bucket} has no CORS rules: the web UI cannot use it", fix)
        missing = cors.missing(live, doctor.origin, methods, etag=etag)
        if missing:
            return failed(name, f"the CORS rules do not allow {', '.join(missing)}", fix)
        return passed(name, f"allows {', '.join(methods)} from {doctor.origin}")

    return check
