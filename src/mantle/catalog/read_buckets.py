"""A tenant's read buckets come from its AWS environments: which buckets (and prefixes) it
may read, and an S3 client with the environment's credentials to read them (from the
environment service's connection cache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.cloud.aws.environment_service import EnvironmentService
from mantle.db.repositories import environments as env_repo
from mantle.errors import NotFoundError
from mantle.schemas.imports import BucketPublic

RUNS_FOLDER = "runs/"  # where run directories live under an environment's write prefix


def folder(prefix: str) -> str:
    """A configured prefix names a folder: `runs` allows `runs/...`, not `runs-old/...`."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


@dataclass(frozen=True)
class ReadBucket:
    """A read bucket as an import sees it: where it is and a client allowed to read it."""

    bucket: str
    prefix: str
    client: Any  # boto3 S3 client

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/"


class ReadBuckets:
    def __init__(self, environments: EnvironmentService) -> None:
        self._environments = environments

    def configured(
        self, session: Session, access: TenantAccess, environment: str | None
    ) -> list[BucketPublic]:
        env = self._environments.public(session, access.tenant_id, environment)
        return [
            BucketPublic(bucket=b.bucket, prefix=folder(b.prefix),
                         uri=f"s3://{b.bucket}/{folder(b.prefix)}")
            for b in env.read_buckets
        ]  # fmt: skip

    def open(
        self, session: Session, access: TenantAccess, environment: str | None, bucket: str
    ) -> ReadBucket:
        """The bucket with a client, if the environment lists it; 404 otherwise."""
        env, connection = self._environments.connect(session, access.tenant_id, environment)
        entry = next((b for b in env.public.read_buckets if b.bucket == bucket), None)
        if entry is None:
            name = env.public.name
            raise NotFoundError(f"'{bucket}' is not a read bucket of environment '{name}'")
        return ReadBucket(bucket=entry.bucket, prefix=folder(entry.prefix),
                          client=connection.client("s3"))  # fmt: skip

    def read_roots(self, session: Session, access: TenantAccess) -> list[str]:
        """Every location of the tenant's environments that datasets may reference in place,
        as `s3://bucket/prefix/`: the read buckets, and the run directories in the write
        bucket (a pipeline run's outputs become datasets where the run published them)."""
        roots = []
        for row in env_repo.list_for_tenant(session, access.tenant_id):
            roots += [f"s3://{b['bucket']}/{folder(b.get('prefix', ''))}" for b in row.read_buckets]
            roots.append(f"s3://{row.write_bucket}/{folder(row.write_prefix)}{RUNS_FOLDER}")
        return roots
