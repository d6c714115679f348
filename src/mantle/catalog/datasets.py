"""Datasets: create (from files already in object storage), read, change, archive and restore,
with a full snapshot per version.

Every change goes through `_change`: read the current row, compute the new state, then
`UPDATE ... WHERE version = :read_version`. When the caller names the version it edited
(`expected_version`, or `If-Match` over HTTP) a mismatch is a 409; otherwise the change is
re-applied on the fresh state, so two concurrent edits both land and neither is lost.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog import properties as props
from mantle.catalog.locations import FileLocations, file_entry
from mantle.catalog.query import CountCache, Selection, select_datasets
from mantle.catalog.types import DataTypes, definitions
from mantle.db.models import SqlDataset, SqlDatasetVersion, SqlDataType
from mantle.db.repositories import datasets as repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError
from mantle.schemas.catalog import (
    DatasetCreate,
    DatasetFile,
    DatasetPage,
    DatasetPublic,
    DatasetQuery,
    DatasetUpdate,
    DatasetVersionPublic,
    FileRef,
    Origin,
    PropertyDef,
    PropertyType,
)

COUNTER = "dataset"
CHANGE_RETRIES = 5


def short_id(number: int) -> str:
    return props.format_short_id(number)


def parse_ref(ref: str | uuid.UUID) -> uuid.UUID | int:
    """`DS-000042` -> 42, a UUID -> UUID; anything else is not a dataset id (404)."""
    return parse_numbered_ref(ref, props.DATASET_REF, "dataset")


def parse_numbered_ref(ref: str | uuid.UUID, short: re.Pattern, noun: str) -> uuid.UUID | int:
    """A per-tenant number from a short id matching `short` (its group 1), or a UUID;
    anything else names no `noun` of anyone's (404)."""
    if isinstance(ref, uuid.UUID):
        return ref
    match = short.fullmatch(ref.strip())
    if match:
        return int(match.group(1))
    try:
        return uuid.UUID(ref)
    except ValueError as e:
        raise NotFoundError(f"{noun} '{ref[:60]}' not found") from e


def dataset_public(row: SqlDataset) -> DatasetPublic:
    return DatasetPublic(
        id=row.id,
        short_id=short_id(row.number),
        name=row.name,
        data_type=row.data_type.name,
        data_type_version=row.data_type_version,
        properties=row.properties,
        files=[DatasetFile.model_validate(f) for f in row.files],
        tags=row.tags,
        origin=row.origin,
        archived=row.archived,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def version_public(dataset: SqlDataset, row: SqlDatasetVersion) -> DatasetVersionPublic:
    return DatasetVersionPublic(
        dataset_id=dataset.id,
        short_id=short_id(dataset.number),
        version=row.version,
        change=row.change,
        name=row.name,
        data_type=dataset.data_type.name,
        data_type_version=row.data_type_version,
        properties=row.properties,
        files=[DatasetFile.model_validate(f) for f in row.files],
        tags=row.tags,
        archived=row.archived,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def clean_tags(tags: Sequence[str]) -> list[str]:
    """Tags trimmed, de-duplicated in order; no commas (they separate tags on the CLI)."""
    clean: list[str] = []
    for tag in tags:
        tag = tag.strip() if isinstance(tag, str) else ""
        if not tag or len(tag) > 100 or "," in tag or any(ord(c) < 32 for c in tag):
            raise InvalidInputError(
                f"tag {tag[:40]!r} is invalid: 1-100 characters, no commas or control characters"
            )
        if tag not in clean:
            clean.append(tag)
    return clean


@dataclass(frozen=True)
class State:
    """What a version holds."""

    name: str
    data_type_version: int
    properties: dict[str, Any]
    files: list[dict]
    tags: list[str]
    archived: bool

    @classmethod
    def of(cls, row: SqlDataset) -> State:
        return cls(
            row.name, row.data_type_version, row.properties, row.files, row.tags, row.archived
        )


class Datasets:
    """Use cases for datasets. Callers own the transaction (they pass an open session)."""

    def __init__(self, types: DataTypes, locations: FileLocations) -> None:
        self.types = types
        self.locations = locations
        # Extra read locations of a tenant (its AWS environments' read buckets); set by Catalog.
        self.tenant_read_roots: Callable[[Session, TenantAccess], list[str]] = lambda _s, _a: []
        self.counts = CountCache()  # list counts, reused across the pages of one selection

    # -- reading ----------------------------------------------------------------------------

    def load(self, session: Session, access: TenantAccess, ref: str | uuid.UUID) -> SqlDataset:
        key = parse_ref(ref)
        if isinstance(key, int):
            row = repo.get_by_number(session, access.tenant_id, key)
        else:
            row = repo.get(session, access.tenant_id, key)
        if row is None:
            raise NotFoundError(f"dataset '{str(ref)[:60]}' not found")
        return row

    def get(self, session: Session, access: TenantAccess, ref: str | uuid.UUID) -> DatasetPublic:
        return dataset_public(self.load(session, access, ref))

    def resolve_many(
        self, session: Session, access: TenantAccess, refs: Sequence[str | uuid.UUID]
    ) -> list[SqlDataset]:
        """The datasets named by `refs` (short ids or UUIDs), in order; 404 on any unknown."""
        keys = [parse_ref(r) for r in refs]
        rows = repo.find(
            session,
            access.tenant_id,
            ids=[k for k in keys if isinstance(k, uuid.UUID)],
            numbers=[k for k in keys if isinstance(k, int)],
        )
        by_key: dict[Any, SqlDataset] = {}
        for row in rows:
            by_key[row.id] = by_key[row.number] = row
        missing = [str(r) for r, k in zip(refs, keys, strict=True) if k not in by_key]
        if missing:
            raise NotFoundError(f"dataset '{missing[0][:60]}' not found", details=missing[:20])
        return [by_key[k] for k in keys]

    def selection(self, session: Session, access: TenantAccess, query: DatasetQuery) -> Selection:
        type_row = None
        if query.data_type is not None:
            type_row = self.types.resolve(session, access.tenant_id, query.data_type)
        return select_datasets(
            session,
            access.tenant_id,
            type_row=type_row,
            filter_tree=query.filter,
            tags=clean_tags(query.tags),
            archived=query.archived,
            sort=query.sort,
        )

    def query(self, session: Session, access: TenantAccess, query: DatasetQuery) -> DatasetPage:
        """One page of the tenant's datasets matching `query`, and the next page's cursor."""
        selection = self.selection(session, access, query)
        rows, next_cursor = selection.page(session, query.limit, query.cursor)
        count = self.counts.count(session, access.tenant_id, selection) if query.count else None
        return DatasetPage(
            items=[dataset_public(r) for r in rows], next_cursor=next_cursor, count=count
        )

    def versions(self, session: Session, access: TenantAccess, ref) -> list[DatasetVersionPublic]:
        row = self.load(session, access, ref)
        return [version_public(row, v) for v in repo.list_versions(session, row.id)]

    def version(self, session: Session, access: TenantAccess, ref, version: int):
        row = self.load(session, access, ref)
        found = repo.get_version(session, row.id, version)
        if found is None:
            raise NotFoundError(f"dataset {short_id(row.number)} has no version {version}")
        return version_public(row, found)

    # -- creating ---------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        access: TenantAccess,
        data: DatasetCreate,
        *,
        origin: Origin | str = Origin.api,
    ) -> DatasetPublic:
        return self.create_many(session, access, [data], origin=origin)[0]

    def create_many(
        self,
        session: Session,
        access: TenantAccess,
        items: Sequence[DatasetCreate],
        *,
        origin: Origin | str = Origin.api,
    ) -> list[DatasetPublic]:
        """Create datasets whose files are already in object storage (the tenant's write area
        or a read bucket); one block of short ids is reserved for all of them."""
        origin = Origin(origin)
        if not items:
            return []
        type_rows: dict[str, SqlDataType] = {}
        states = []
        for data in items:
            if data.data_type not in type_rows:
                type_rows[data.data_type] = self._type_for_create(session, access, data.data_type)
            states.append(self._new_state(session, access, type_rows[data.data_type], data))
        first = repo.allocate_numbers(session, access.tenant_id, COUNTER, len(items))
        now, actor = datetime.now(UTC), access.principal.email
        created = []
        for i, (data, state) in enumerate(zip(items, states, strict=True)):
            type_row = type_rows[data.data_type]
            created.append(
                DatasetPublic(
                    id=uuid.uuid4(), short_id=short_id(first + i), name=state.name,
                    data_type=type_row.name, data_type_version=state.data_type_version,
                    properties=state.properties,
                    files=[DatasetFile.model_validate(f) for f in state.files], tags=state.tags,
                    origin=origin.value, archived=False, version=1, created_at=now,
                    created_by=actor, updated_at=now, updated_by=actor,
                )
            )  # fmt: skip
        # Plain multi-row INSERTs: a 500-dataset import page needs no ORM unit of work.
        repo.insert_created(
            session,
            [
                {"id": d.id, "tenant_id": access.tenant_id, "number": first + i,
                 "data_type_id": type_rows[data.data_type].id, "origin": origin.value,
                 "version": 1, "created_at": now, "created_by": actor, "updated_at": now,
                 "updated_by": actor, **_state_columns(state)}
                for i, (d, data, state) in enumerate(zip(created, items, states, strict=True))
            ],
            [
                {"dataset_id": d.id, "version": 1, "change": "created", "created_at": now,
                 "created_by": actor, **_state_columns(state)}
                for d, state in zip(created, states, strict=True)
            ],
        )  # fmt: skip
        return created

    def check_create(self, session: Session, access: TenantAccess, data: DatasetCreate) -> None:
        """Validate `data` as `create` would (type, files, properties), writing nothing: for
        callers that must know before doing costly work (assembling an upload)."""
        type_row = self._type_for_create(session, access, data.data_type)
        self._new_state(session, access, type_row, data)

    def _type_for_create(self, session: Session, access: TenantAccess, name: str):
        try:
            return self.types.resolve(session, access.tenant_id, name)
        except NotFoundError as e:
            raise InvalidInputError(
                f"data_type: '{name}' is not a data type of this tenant",
                details=[{"loc": ["data_type"], "msg": "unknown data type"}],
            ) from e

    def _new_state(self, session, access, type_row: SqlDataType, data: DatasetCreate) -> State:
        files = self._checked_files(session, access, data.files)
        properties = self._valid_properties(session, access, type_row, data.properties, files)
        return State(
            name=_clean_name(data.name),
            data_type_version=type_row.version,
            properties=properties,
            files=files,
            tags=clean_tags(data.tags),
            archived=False,
        )

    def _valid_properties(
        self, session, access, type_row: SqlDataType, values: dict, files: list[dict]
    ) -> dict[str, Any]:
        """Properties checked against the type's current version; file properties must point
        at allowed locations (and join `files` if missing); dataset references must exist."""
        defs = definitions(type_row)
        clean = props.validate_properties(
            defs, type_row.additional_properties, values, type_name=type_row.name
        )
        for d in defs:
            if d.name in clean:
                clean[d.name] = self._check_references(session, access, d, clean[d.name], files)
        return clean

    def _check_references(self, session, access, d: PropertyDef, value, files: list[dict]):
        kind = props.item_type(d) or d.type
        values = value if isinstance(value, list) else [value]
        try:
            if kind is PropertyType.file:
                values = [self._file_property(session, access, uri, files) for uri in values]
            elif kind is PropertyType.dataset:
                rows = self.resolve_many(session, access, values)
                values = [short_id(r.number) for r in rows]
        except (NotFoundError, InvalidInputError) as e:
            raise InvalidInputError(
                f"property '{d.name}': {e.message}",
                details=[{"loc": ["properties", d.name], "property": d.name, "msg": e.message}],
            ) from e
        return values if isinstance(value, list) else values[0]

    def _read_roots(self, session: Session, access: TenantAccess) -> list[str]:
        # Looked up once per transaction, not once per file of a 50,000-dataset import.
        cache = session.info.setdefault("mantle.read_roots", {})
        if access.tenant_id not in cache:
            cache[access.tenant_id] = self.tenant_read_roots(session, access)
        return cache[access.tenant_id]

    def _checked_files(self, session: Session, access: TenantAccess, files: list[FileRef]):
        extra = self._read_roots(session, access)
        return self.locations.checked_files(access.tenant_id, files, extra_roots=extra)

    def _file_property(self, session, access: TenantAccess, uri: str, files: list[dict]) -> str:
        if any(f["uri"] == uri for f in files):
            return uri  # one of the dataset's files, checked by `_checked_files` already
        extra = self._read_roots(session, access)
        checked = self.locations.check(access.tenant_id, uri, extra_roots=extra)
        if all(f["uri"] != checked.uri for f in files):
            files.append(file_entry(checked))
        return checked.uri

    # -- changing ---------------------------------------------------------------------------

    def update(
        self,
        session: Session,
        access: TenantAccess,
        ref: str | uuid.UUID,
        data: DatasetUpdate,
        *,
        expected_version: int | None = None,
    ) -> DatasetPublic:
        expected = expected_version if expected_version is not None else data.expected_version

        def edit(row: SqlDataset, state: State) -> State:
            return self._edited(session, access, row, state, data)

        return self._change(session, access, ref, expected, "updated", edit)

    def archive(self, session, access, ref, *, expected_version: int | None = None):
        return self._change(
            session, access, ref, expected_version, "archived",
            lambda _row, state: replace(state, archived=True),
        )  # fmt: skip

    def restore(self, session, access, ref, *, expected_version: int | None = None):
        return self._change(
            session, access, ref, expected_version, "restored",
            lambda _row, state: replace(state, archived=False),
        )  # fmt: skip

    def _edited(self, session, access, row: SqlDataset, state: State, data: DatasetUpdate):
        files = state.files
        if data.files is not None:
            files = self._checked_files(session, access, data.files)
        properties, type_version = state.properties, state.data_type_version
        if data.properties is not None or data.files is not None:
            # Changed properties are checked against the type's current version.
            merged = {**state.properties, **(data.properties or {})}
            merged = {k: v for k, v in merged.items() if v is not None}
            files = list(files)
            properties = self._valid_properties(session, access, row.data_type, merged, files)
            type_version = row.data_type.version
        tags = list(state.tags if data.tags is None else data.tags)
        tags = [t for t in [*tags, *data.add_tags] if t not in set(data.remove_tags)]
        return replace(
            state,
            name=state.name if data.name is None else _clean_name(data.name),
            data_type_version=type_version,
            properties=properties,
            files=files,
            tags=clean_tags(tags),
        )

    def _change(
        self,
        session: Session,
        access: TenantAccess,
        ref: str | uuid.UUID,
        expected: int | None,
        change: str,
        edit: Callable[[SqlDataset, State], State],
    ) -> DatasetPublic:
        for _attempt in range(CHANGE_RETRIES):
            row = self.load(session, access, ref)
            if expected is not None and row.version != expected:
                raise _stale(row, expected)
            before = State.of(row)
            after = edit(row, before)
            if after == before:
                return dataset_public(row)
            now, actor = datetime.now(UTC), access.principal.email
            columns = _state_columns(after) | {"updated_at": now, "updated_by": actor}
            if repo.bump_if_version(session, row.id, row.version, **columns):
                row = self.load(session, access, row.id)
                repo.add_versions(session, [_snapshot(row, change)])
                return dataset_public(row)
            if expected is not None:
                raise _stale(row, expected)
        raise ConflictError("the dataset is changing too often right now; try again")


def _stale(row: SqlDataset, expected: int) -> ConflictError:
    return ConflictError(
        f"dataset {short_id(row.number)} changed since version {expected}; "
        "reload it and apply your change again",
        details={"expected_version": expected},
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or any(ord(c) < 32 for c in name):
        raise InvalidInputError("name: must be non-empty, without control characters")
    return name


def _state_columns(state: State) -> dict[str, Any]:
    return {
        "name": state.name,
        "data_type_version": state.data_type_version,
        "properties": state.properties,
        "files": state.files,
        "tags": state.tags,
        "archived": state.archived,
    }


def _snapshot(row: SqlDataset, change: str) -> SqlDatasetVersion:
    return SqlDatasetVersion(
        dataset_id=row.id,
        version=row.version,
        change=change,
        created_at=row.updated_at,
        created_by=row.updated_by,
        **_state_columns(State.of(row)),
    )


__all__ = ["Datasets", "FileRef", "dataset_public", "parse_ref", "short_id"]
