"""Download links for a dataset's files: presigned GET URLs, from the platform's store for
stored files and from the environment's credentials for files referenced in a read bucket."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.read_buckets import ReadBuckets
from mantle.catalog.service import Catalog
from mantle.errors import InvalidInputError
from mantle.schemas.uploads import DownloadLink

EXPIRES_IN = 3600


def links(
    session: Session, access: TenantAccess, catalog: Catalog, buckets: ReadBuckets, ref: str
) -> list[DownloadLink]:
    dataset = catalog.datasets.get(session, access, ref)
    store = catalog.locations.tenant_store(access.tenant_id)
    opened: dict[str, object] = {}
    found = []
    for file in dataset.files:
        if file.storage == "stored":
            key = catalog.locations.check(access.tenant_id, file.uri).key
            size = file.size if file.size is not None else store.head(key).size
            url = store.presign_get(key, expires_in=EXPIRES_IN)
        else:
            url, size = _referenced(session, access, buckets, opened, file.uri, file.size)
        found.append(DownloadLink(name=file.name, size=size, url=url, expires_in=EXPIRES_IN))
    return found


def _referenced(session, access, buckets: ReadBuckets, opened: dict, uri: str, size):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not key:
        raise InvalidInputError(f"{uri} cannot be downloaded through Mantle")
    if bucket not in opened:
        opened[bucket] = buckets.open(session, access, None, bucket).client
    client = opened[bucket]
    if size is None:
        size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=EXPIRES_IN
    )
    return url, size
