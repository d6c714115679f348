"""`mantle aws doctor`: checks an environment's live AWS setup, each check answering pass, warn
or fail with a one-line fix. Checks never raise: an AWS error becomes a failed check whose
message is redacted and says whether trying again can help. Probes clean up after themselves
(the test object is deleted, the multipart upload aborted, the job definition deregistered).

S3 checks are in this module; Batch, CloudWatch Logs and ECR checks in `doctor_batch`.
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
    """An AWS call inside a check failed; `fix` says what to change."""

    def __init__(self, step: str, error: Exception, fix: str) -> None:
        super().__init__(step)
        self.step, self.error, self.fix = step, error, fix


def step(name: str, fix: str, call: Callable, /, **kwargs):
    """Run one AWS call of a check, labelling its failure with what was being done."""
    try:
        return call(**kwargs)
    except Exception as e:  # noqa: BLE001 - every failure becomes a check result
        raise StepFailed(name, e, fix) from e


def guarded(doctor: Doctor, name: str, check: Callable[[], CheckResult]) -> CheckResult:
    try:
        return check()
    except StepFailed as e:
        problem = describe(e.error, doctor.secrets)
        if problem.retryable:
            fix = "a temporary AWS error: run the doctor again in a minute"
        else:
            fix = e.fix
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
    from mantle.cloud.aws import doctor_batch

    results = [guarded(doctor, "credentials", lambda: check_credentials(doctor))]
    if results[0].status is not CheckStatus.fail:
        for name, check in [*s3_checks(doctor), *doctor_batch.checks(doctor)]:
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


def _location_check(bucket: str) -> Check:
    def check(doctor: Doctor) -> CheckResult:
        name, region = f"bucket {bucket}", doctor.env.region
        fix = f"create the bucket in {region}, correct its name, or " + _policy_fix(
            "s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"
        )
        s3 = doctor.client("s3")
        found = step("GetBucketLocation", fix, s3.get_bucket_location, Bucket=bucket)
        location = found.get("LocationConstraint") or "us-east-1"
        location = "eu-west-1" if location == "EU" else location  # S3's legacy name
        if location != region:
            return failed(
                name,
                f"s3://{bucket} is in {location}, the environment runs in {region}",
                f"use a bucket in {region} (cross-region traffic is slow and billed), or "
                "change the environment's region",
            )
        return passed(name, f"s3://{bucket} exists in {region}")

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


def check_write(doctor: Doctor) -> CheckResult:
    env, s3 = doctor.env, doctor.client("s3")
    key = _probe_key(env)
    objects = f"arn:aws:s3:::{_under(env.write_bucket, env.write_prefix)}/*"
    content = f"mantle doctor probe {key}".encode()
    step(
        "PutObject",
        _policy_fix("s3:PutObject", objects),
        s3.put_object,
        Bucket=env.write_bucket,
        Key=key,
        Body=content,
    )
    try:
        got = step(
            "GetObject",
            _policy_fix("s3:GetObject", objects),
            s3.get_object,
            Bucket=env.write_bucket,
            Key=key,
        )
        read_back = got["Body"].read()
    finally:
        step(
            "DeleteObject",
            _policy_fix("s3:DeleteObject", objects),
            s3.delete_object,
            Bucket=env.write_bucket,
            Key=key,
        )
    if read_back != content:
        return failed(
            f"write {env.write_bucket}",
            "the probe object read back with different content",
            "check for a proxy or S3-compatible endpoint rewriting objects",
        )
    where = f"s3://{_under(env.write_bucket, env.write_prefix)}/"
    return passed(f"write {env.write_bucket}", f"wrote, read and deleted a probe under {where}")


def check_multipart(doctor: Doctor) -> CheckResult:
    env, s3 = doctor.env, doctor.client("s3")
    key = _probe_key(env, "-multipart")
    objects = f"arn:aws:s3:::{_under(env.write_bucket, env.write_prefix)}/*"
    upload = step(
        "CreateMultipartUpload",
        _policy_fix("s3:PutObject", objects),
        s3.create_multipart_upload,
        Bucket=env.write_bucket,
        Key=key,
    )
    step(
        "AbortMultipartUpload",
        _policy_fix("s3:AbortMultipartUpload", objects),
        s3.abort_multipart_upload,
        Bucket=env.write_bucket,
        Key=key,
        UploadId=upload["UploadId"],
    )
    return passed(f"multipart {env.write_bucket}", "started and aborted a multipart upload")


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
