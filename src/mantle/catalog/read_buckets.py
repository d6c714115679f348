"""A tenant's read buckets come from its AWS environments: which buckets (and prefixes) it
may read, and an S3 client with the environment's credentials to read them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.imports import ReadBucket
from mantle.cloud.aws import environments
from mantle.cloud.aws.crypto import SecretBox
from mantle.db.repositories import environments as env_repo
from mantle.errors import NotFoundError
from mantle.schemas.imports import BucketPublic
from mantle.settings import AwsSettings


def folder(prefix: str) -> str:
    """A configured prefix names a folder: `runs` allows `runs/...`, not `runs-old/...`."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


class ReadBuckets:
    def __init__(self, box: SecretBox, aws: AwsSettings) -> None:
        self._box = box
        self._aws = aws

    def _environment_name(self, session: Session, access: TenantAccess, name: str | None) -> str:
        if name:
            return name
        rows = env_repo.list_for_tenant(session, access.tenant_id)
        default = next((r for r in rows if r.is_default), rows[0] if len(rows) == 1 else None)
        if default is None:
            raise NotFoundError(
                "this tenant has no default AWS environment; create one "
                "(`mantle aws environments create`) or name one"
            )
        return default.name

    def configured(
        self, session: Session, access: TenantAccess, environment: str | None
    ) -> list[BucketPublic]:
        name = self._environment_name(session, access, environment)
        env = environments.get_environment(session, access, name)
        return [
            BucketPublic(bucket=b.bucket, prefix=folder(b.prefix),
                         uri=f"s3://{b.bucket}/{folder(b.prefix)}")
            for b in env.read_buckets
        ]  # fmt: skip

    def open(
        self, session: Session, access: TenantAccess, environment: str | None, bucket: str
    ) -> ReadBucket:
        """The bucket with a client, if the environment lists it; 404 otherwise."""
        name = self._environment_name(session, access, environment)
        env = environments.load_for_use(session, access, name, self._box, self._aws)
        entry = next((b for b in env.public.read_buckets if b.bucket == bucket), None)
        if entry is None:
            raise NotFoundError(f"'{bucket}' is not a read bucket of environment '{name}'")
        return ReadBucket(bucket=entry.bucket, prefix=folder(entry.prefix),
                          client=env.connect(self._aws).client("s3"))  # fmt: skip

    def read_roots(self, session: Session, access: TenantAccess) -> list[str]:
        """Every read location of every environment of the tenant, as `s3://bucket/prefix`."""
        roots = []
        for row in env_repo.list_for_tenant(session, access.tenant_id):
            roots += [f"s3://{b['bucket']}/{folder(b.get('prefix', ''))}" for b in row.read_buckets]
        return roots
