"""Importing objects from a tenant's read buckets as datasets, referenced in place.

Browse (`browse`) and preview (`preview`) run while the user waits; a real import runs as a
background job (`run_import`) whose progress is readable through the API.

The job walks the bucket listing page by page. Each dataset is created as soon as all its
files have been seen: a group complete within one page (a read pair listed together) is
created straight from the page; objects whose mates are on another page are staged in
`import_objects` until they are complete, and datasets whose files cannot be known complete
until the end (file lists) are created after the walk. Every page is one transaction and the
job checkpoints the listing cursor after it, so an interrupted import resumes from its last
page rather than from the start.
`import_sources` remembers what each dataset was made from, so re-running an import creates
no duplicates. The next listing page is fetched while the current one is written, so the
import costs little more than the listing itself.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle.accounts.authn import principal_for_user
from mantle.accounts.policy import Permission, TenantAccess, authorize
from mantle.aws.errors import describe
from mantle.catalog.import_plan import (
    IMPORT_MATCH_SECONDS,
    PREVIEW_MATCH_SECONDS,
    ImportPlan,
    MatchedObject,
    PlannedDataset,
)
from mantle.catalog.read_buckets import ReadBucket, ReadBuckets
from mantle.catalog.service import Catalog
from mantle.catalog.types import definitions
from mantle.checksums import etag_label
from mantle.db import dialects
from mantle.db.models import SqlImportObject, SqlImportSource, SqlTenant, SqlUser
from mantle.db.repositories import lineage as lineage_repo
from mantle.errors import InvalidInputError, NotFoundError, PermissionDeniedError, StorageError
from mantle.jobs import queue
from mantle.jobs.context import JobContext
from mantle.jobs.worker import JobKind
from mantle.schemas.catalog import DatasetCreate, FileRef, Origin, PropertyType
from mantle.schemas.imports import (
    FILES_ROLE,
    UNMATCHED_SHOWN,
    BucketListing,
    BucketObject,
    ImportCreate,
    ImportPreview,
    ImportPublic,
    ImportSpec,
    PlannedDatasetPublic,
)

JOB_KIND = "catalog.import"
PAGE_SIZE = 1000
PREVIEW_OBJECTS = 10_000
CREATE_CHUNK = 500


def check_prefix(bucket: ReadBucket, prefix: str) -> str:
    """Keep browsing and imports inside the configured part of the bucket."""
    if "\x00" in prefix or any(part == ".." for part in prefix.split("/")):
        raise InvalidInputError("prefix: no '..' segments or NUL characters")
    if not prefix.startswith(bucket.prefix):
        if bucket.prefix.startswith(prefix):
            return bucket.prefix  # browsing above the configured prefix shows just it
        raise PermissionDeniedError(f"only s3://{bucket.bucket}/{bucket.prefix} may be read")
    return prefix


def _list_page(bucket: ReadBucket, prefix: str, cursor: str | None, delimiter: str | None):
    args: dict[str, Any] = {"Bucket": bucket.bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
    if cursor:
        args["ContinuationToken"] = cursor
    if delimiter:
        args["Delimiter"] = delimiter
    try:
        return bucket.client.list_objects_v2(**args)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            raise NotFoundError(f"bucket {bucket.bucket} does not exist") from e
        if code in ("AccessDenied", "403"):
            raise PermissionDeniedError(
                f"the environment's credentials may not list s3://{bucket.bucket}; "
                "run `mantle aws doctor`"
            ) from e
        raise _listing_failed(bucket, e) from e
    except BotoCoreError as e:
        raise _listing_failed(bucket, e) from e


def _listing_failed(bucket: ReadBucket, error: Exception) -> StorageError:
    # Throttling, a 5xx or a dropped connection: the import job tries again later.
    problem = describe(error)
    return StorageError(
        f"listing s3://{bucket.bucket} failed: {problem.code}", retryable=problem.retryable
    )


def browse(bucket: ReadBucket, prefix: str, cursor: str | None) -> BucketListing:
    prefix = check_prefix(bucket, prefix)
    page = _list_page(bucket, prefix, cursor, "/")
    return BucketListing(
        bucket=bucket.bucket,
        prefix=prefix,
        folders=[p["Prefix"] for p in page.get("CommonPrefixes", [])],
        objects=[_object(o) for o in page.get("Contents", [])],
        next_cursor=page.get("NextContinuationToken"),
    )


def _object(entry: dict) -> BucketObject:
    return BucketObject(
        key=entry["Key"],
        size=entry["Size"],
        last_modified=entry["LastModified"],
        etag=entry.get("ETag", "").strip('"'),
    )


def walk(bucket: ReadBucket, prefix: str, cursor: str | None) -> Iterator[tuple[list, str | None]]:
    """Listing pages as (objects, cursor of the page after), fetching one page ahead."""
    with ThreadPoolExecutor(1) as prefetch:
        pending: Future = prefetch.submit(_list_page, bucket, prefix, cursor, None)
        while pending is not None:
            page = pending.result()
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            pending = prefetch.submit(_list_page, bucket, prefix, token, None) if token else None
            yield page.get("Contents", []), token


# --- planning ------------------------------------------------------------------------------


def make_plan(
    session: Session,
    catalog: Catalog,
    access: TenantAccess,
    spec: ImportCreate,
    match_seconds: float = IMPORT_MATCH_SECONDS,
) -> ImportPlan:
    type_row = catalog.types.resolve(session, access.tenant_id, spec.data_type)
    return ImportPlan(spec, definitions(type_row), match_seconds)


def source_key(spec: ImportCreate, group: str) -> str:
    text = f"s3://{spec.bucket}/{spec.prefix}|{spec.data_type}|{group}"
    return hashlib.sha256(text.encode()).hexdigest()


def _present(session: Session, column, values: list, *conditions) -> set:
    """Which of `values` appear in `column` among the rows matching `conditions` (IN lists of
    at most 1000 values a statement)."""
    found: set = set()
    for start in range(0, len(values), 1000):
        chunk = values[start : start + 1000]
        found.update(
            session.scalars(select(column).where(*conditions, column.in_(chunk)).distinct())
        )
    return found


def _existing(session: Session, tenant_id: uuid.UUID, keys: list[str]) -> set[str]:
    """The source keys among `keys` that an earlier import of the tenant already made."""
    return _present(
        session, SqlImportSource.source_key, keys, SqlImportSource.tenant_id == tenant_id
    )


def _group(matches: list[MatchedObject]) -> dict[str, list[MatchedObject]]:
    groups: dict[str, list[MatchedObject]] = defaultdict(list)
    for match in matches:
        groups[match.group].append(match)
    return groups


def _planned_public(planned: PlannedDataset, exists: bool) -> PlannedDatasetPublic:
    return PlannedDatasetPublic(
        key=planned.group,
        name=planned.name,
        properties=planned.properties,
        files=[m.key for m in planned.files],
        problems=planned.problems,
        exists=exists,
    )


def preview(
    session: Session,
    catalog: Catalog,
    access: TenantAccess,
    bucket: ReadBucket,
    spec: ImportCreate,
    limit: int = 50,
) -> ImportPreview:
    """A dry run over the first objects of the listing: what would be created, and why some
    groups would be skipped."""
    check_prefix(bucket, spec.prefix)
    plan = make_plan(session, catalog, access, spec, PREVIEW_MATCH_SECONDS)
    scanned, matches, unmatched, complete = 0, [], [], True
    for objects, token in walk(bucket, spec.prefix, None):
        scanned += len(objects)
        for o in objects:
            if found := plan.match(o["Key"], o["Size"], _etag(o)):
                matches.append(found)
            elif len(unmatched) < UNMATCHED_SHOWN:
                unmatched.append(o["Key"])
        if token and scanned >= PREVIEW_OBJECTS:
            complete = False
            break
    groups = _group(matches)
    shown = sorted(groups)[:limit]
    planned = [plan.build(g, groups[g], bucket.uri) for g in shown]
    existing = _existing(session, access.tenant_id, [source_key(spec, g) for g in shown])
    return ImportPreview(
        objects_scanned=scanned,
        objects_matched=len(matches),
        datasets=[_planned_public(p, source_key(spec, p.group) in existing) for p in planned],
        unmatched=unmatched,
        complete=complete,
    )


def _etag(entry: dict) -> str:
    return entry.get("ETag", "").strip('"')


def check_spec(session, catalog: Catalog, access: TenantAccess, bucket: ReadBucket, spec):
    check_prefix(bucket, spec.prefix)
    make_plan(session, catalog, access, spec)


# --- the background job --------------------------------------------------------------------


class ImportServices(Protocol):
    """What an import job needs from the platform's services (`mantle.services.Services`)."""

    catalog: Catalog
    read_buckets: ReadBuckets


class ImportRun:
    """One import job's work: walk, stage, create; every step resumable."""

    def __init__(
        self,
        ctx: JobContext[ImportServices],
        catalog: Catalog,
        access: TenantAccess,
        bucket: ReadBucket,
    ) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.access = access
        self.bucket = bucket
        self.spec = job_spec(ctx.payload)
        self.counts = {
            "objects_scanned": 0, "objects_matched": 0, "datasets_created": 0,
            "datasets_existing": 0, "groups_skipped": 0,
            **{k: v for k, v in ctx.checkpoint.get("counts", {}).items()},
        }  # fmt: skip
        self.problems: list[str] = list(ctx.checkpoint.get("problems", []))
        self.activity_id = ctx.checkpoint.get("activity_id")

    def run(self) -> None:
        with self.ctx.db.session() as session:
            self.plan = make_plan(session, self.catalog, self.access, self.spec)
            self.eager = all(
                role != FILES_ROLE and self.plan._defs[role].type is PropertyType.file
                for role in self.spec.patterns
            )
            if self.activity_id is None:
                self.activity_id = str(self._start_activity(session))
        if self.ctx.checkpoint.get("phase", "scan") == "scan":
            self._scan()
        self._finish()

    def _start_activity(self, session: Session) -> uuid.UUID:
        activity = lineage_repo.add_activity(
            session,
            tenant_id=self.access.tenant_id,
            kind="import",
            details={"job_id": str(self.ctx.job_id), "source": self.bucket.uri + self.spec.prefix},
            created_at=datetime.now(UTC),
            created_by=self.access.principal.email,
        )
        return activity.id

    def _report(self, phase: str, cursor: str | None = None) -> None:
        progress = {"phase": phase, **self.counts, "problems": self.problems[:20]}
        self.ctx.report(
            progress,
            checkpoint={
                "phase": phase, "cursor": cursor, "counts": self.counts,
                "problems": self.problems[:20], "activity_id": self.activity_id,
            },
        )  # fmt: skip

    def _scan(self) -> None:
        start = self.ctx.checkpoint.get("cursor")
        for objects, cursor in walk(self.bucket, self.spec.prefix, start):
            matches = [m for o in objects if (m := self.plan.match(o["Key"], o["Size"], _etag(o)))]
            self.counts["objects_scanned"] += len(objects)
            self.counts["objects_matched"] += len(matches)
            with self.ctx.db.session() as session:
                if self.eager:
                    self._page_eager(session, matches)
                else:
                    self._stage(session, matches)
            self._report("scan", cursor)
            if cursor is None:
                break
        self._report("create")

    def _page_eager(self, session: Session, matches: list[MatchedObject]) -> None:
        """Create the page's complete groups straight away; stage the rest (a mate on
        another page), then create the staged groups this page completed."""
        groups = _group(matches)
        complete = {g: members for g, members in groups.items() if self._is_complete(members)}
        # A group with objects staged from earlier pages must be built from all of them.
        for group in self._staged_groups(session, list(complete)):
            del complete[group]
        rest = [m for g, members in groups.items() if g not in complete for m in members]
        self._create(session, complete, staged=False)
        self._stage(session, rest)
        if rest:
            self._create_complete(session, {m.group for m in rest})

    def _is_complete(self, members: list[MatchedObject]) -> bool:
        """Every file property is filled exactly once."""
        roles = [m.role for m in members]
        return all(roles.count(role) == 1 for role in self.spec.patterns)

    def _stage(self, session: Session, matches: list[MatchedObject]) -> None:
        if not matches:
            return
        rows = [
            {"job_id": self.ctx.job_id, "key": m.key, "group_key": m.group, "role": m.role,
             "size": m.size, "etag": m.etag, "fields": m.fields}
            for m in matches
        ]  # fmt: skip
        staging = dialects.insert_ignoring_conflicts(session, SqlImportObject.__table__)
        session.execute(staging, rows)

    def _staged_groups(self, session: Session, groups: list[str]) -> set[str]:
        """The groups among `groups` with objects staged by earlier pages."""
        job = SqlImportObject.job_id == self.ctx.job_id
        return _present(session, SqlImportObject.group_key, groups, job)

    def _staged(self, session: Session, groups: set[str]) -> dict[str, list]:
        query = select(SqlImportObject).where(
            SqlImportObject.job_id == self.ctx.job_id, SqlImportObject.group_key.in_(groups)
        )
        staged: dict[str, list[MatchedObject]] = defaultdict(list)
        for row in session.scalars(query.order_by(SqlImportObject.group_key)):
            staged[row.group_key].append(
                MatchedObject(row.key, row.size, row.etag, row.role, row.group_key, row.fields)
            )
        return staged

    def _create_complete(self, session: Session, groups: set[str]) -> None:
        """Create the staged datasets of `groups` whose every file property is filled once."""
        staged = self._staged(session, groups)
        self._create(session, {g: m for g, m in staged.items() if self._is_complete(m)})

    def _finish(self) -> None:
        """After the walk: everything still staged is complete as it will ever be."""
        while True:
            with self.ctx.db.session() as session:
                groups = set(
                    session.scalars(
                        select(SqlImportObject.group_key)
                        .where(SqlImportObject.job_id == self.ctx.job_id)
                        .distinct()
                        .limit(CREATE_CHUNK)
                    )
                )
                if not groups:
                    break
                self._create(session, self._staged(session, groups))
            self._report("create")
        self._report("done")

    def _create(self, session: Session, groups: dict[str, list], staged: bool = True) -> None:
        """Create the datasets of `groups` (unless made by an earlier run of this import);
        `staged`: their objects are in `import_objects`, to be removed in the same
        transaction."""
        if not groups:
            return
        planned = [self.plan.build(g, members, self.bucket.uri) for g, members in groups.items()]
        keys = {p.group: source_key(self.spec, p.group) for p in planned}
        existing = _existing(session, self.access.tenant_id, list(keys.values()))
        todo = []
        for p in planned:
            if keys[p.group] in existing:
                self.counts["datasets_existing"] += 1
            elif p.problems:
                self.counts["groups_skipped"] += 1
                self.problems.append(f"{p.group}: {'; '.join(p.problems)}")
            else:
                todo.append(p)
        created = self.catalog.datasets.create_many(
            session, self.access, [self._dataset(p) for p in todo], origin=Origin.import_
        )
        self.counts["datasets_created"] += len(created)
        if created:
            session.execute(
                SqlImportSource.__table__.insert(),
                [{"tenant_id": self.access.tenant_id, "source_key": keys[p.group],
                  "dataset_id": d.id} for p, d in zip(todo, created, strict=True)],
            )  # fmt: skip
            lineage_repo.add_edges(
                session, uuid.UUID(self.activity_id), [(d.id, "output") for d in created]
            )
        if staged:
            session.execute(
                SqlImportObject.__table__.delete().where(
                    SqlImportObject.job_id == self.ctx.job_id,
                    SqlImportObject.group_key.in_(list(groups)),
                )
            )

    def _dataset(self, planned: PlannedDataset) -> DatasetCreate:
        prefix = self.spec.prefix
        return DatasetCreate(
            name=planned.name[:500],
            data_type=self.spec.data_type,
            properties=planned.properties,
            tags=self.spec.tags,
            files=[
                FileRef(uri=self.bucket.uri + m.key, name=m.key[len(prefix):] or m.key,
                        size=m.size, etag=m.etag, checksum=etag_label(m.etag))
                for m in planned.files
            ],
        )  # fmt: skip


def get_job(session: Session, access: TenantAccess, job_id: uuid.UUID):
    job = queue.get(session, access.tenant_id, job_id)
    if job is None or job.kind != JOB_KIND:
        raise NotFoundError("import not found")
    return job


def import_public(job) -> ImportPublic:
    return ImportPublic(
        id=job.id,
        status=job.status,
        spec=ImportSpec.model_validate(job.payload["spec"]),
        progress=job.progress or {},
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def run_import(ctx: JobContext[ImportServices]) -> None:
    """Job handler for `catalog.import`: acts with the rights of the user who started it,
    checked again now (a member removed since cannot import through an old job)."""
    spec = job_spec(ctx.payload)
    with ctx.db.session() as session:
        access = job_access(session, ctx.tenant_id, ctx.created_by)
        bucket = ctx.services.read_buckets.open(session, access, spec.environment, spec.bucket)
    ImportRun(ctx, ctx.services.catalog, access, bucket).run()


# A retried import resumes from its last page: retrying costs little.
IMPORT_JOB = JobKind[ImportServices](JOB_KIND, run_import, max_attempts=5)


def job_spec(payload: dict) -> ImportCreate:
    """The job's spec, checked again: a job queued before a rule was tightened (an unsafe
    pattern, say) fails with the reason instead of running."""
    try:
        return ImportCreate.model_validate(payload["spec"])
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInputError(
            f"this import's spec is no longer accepted: {where}: {first['msg']}"
        ) from e


def job_access(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID | None):
    user = session.get(SqlUser, user_id) if user_id else None
    tenant = session.get(SqlTenant, tenant_id)
    if user is None or tenant is None or not user.is_active:
        raise PermissionDeniedError("the user who started this job can no longer act")
    return authorize(session, principal_for_user(user), tenant.slug, Permission.write)
