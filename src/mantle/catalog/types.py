"""Data types: tenant-defined, versioned property schemas, and the built-in ones every tenant
gets (`file`, `directory`, `fastq`, `fastq_pair`, and `table` and `report` for what pipelines
produce), seeded on first use; a type added here reaches existing tenants the same way.

Changing a type makes a new version; each dataset records the type version its properties
were last validated against, so older datasets stay readable when a type evolves. A change
must leave every existing dataset of the type valid: describing, adding optional properties
and widening enums always are; a new required property, a narrower enum or a dropped property
is refused while a dataset would break, and a property never changes its type.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import chain

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.properties import check_definitions, format_short_id, validate_properties
from mantle.db import sort_indexes
from mantle.db.models import SqlDataType, SqlDataTypeVersion
from mantle.db.repositories import datasets as datasets_repo
from mantle.db.repositories import datatypes as repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError
from mantle.schemas.catalog import (
    DataTypeCreate,
    DataTypePublic,
    DataTypeUpdate,
    DataTypeVersionPublic,
    PropertyDef,
    PropertyType,
)


def _prop(name: str, kind: PropertyType, description: str) -> PropertyDef:
    return PropertyDef(name=name, type=kind, required=True, description=description)


BUILTIN_TYPES: tuple[DataTypeCreate, ...] = (
    DataTypeCreate(
        name="file",
        description="One file, with whatever properties you give it.",
        additional_properties=True,
    ),
    DataTypeCreate(
        name="directory",
        description="A folder of files, kept together.",
        additional_properties=True,
    ),
    DataTypeCreate(
        name="fastq",
        description="Single-end sequencing reads of one sample.",
        properties=[
            _prop("sample", PropertyType.string, "Sample name"),
            _prop("reads", PropertyType.file, "FASTQ file (gzipped or not)"),
        ],
    ),
    DataTypeCreate(
        name="fastq_pair",
        description="Paired-end sequencing reads of one sample.",
        properties=[
            _prop("sample", PropertyType.string, "Sample name"),
            _prop("read1", PropertyType.file, "FASTQ of read 1 (R1)"),
            _prop("read2", PropertyType.file, "FASTQ of read 2 (R2)"),
        ],
    ),
    DataTypeCreate(
        name="table",
        description="A table (CSV or TSV), e.g. statistics a pipeline wrote.",
        additional_properties=True,
    ),
    DataTypeCreate(
        name="report",
        description="A report to read (HTML, PDF), e.g. a MultiQC report.",
        additional_properties=True,
    ),
)
BUILTIN_NAMES = frozenset(t.name for t in BUILTIN_TYPES)


def type_public(row: SqlDataType) -> DataTypePublic:
    return DataTypePublic(
        id=row.id,
        name=row.name,
        description=row.description,
        version=row.version,
        properties=[PropertyDef.model_validate(p) for p in row.properties],
        additional_properties=row.additional_properties,
        builtin=row.builtin,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def version_public(name: str, row: SqlDataTypeVersion) -> DataTypeVersionPublic:
    return DataTypeVersionPublic(
        name=name,
        version=row.version,
        description=row.description,
        properties=[PropertyDef.model_validate(p) for p in row.properties],
        additional_properties=row.additional_properties,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def definitions(row: SqlDataType | SqlDataTypeVersion) -> list[PropertyDef]:
    return [PropertyDef.model_validate(p) for p in row.properties]


def _dump(properties: list[PropertyDef]) -> list[dict]:
    return [p.model_dump(mode="json", exclude_none=True) for p in properties]


class DataTypes:
    """Use cases for data types. Callers own the transaction (they pass an open session)."""

    def ensure_builtins(self, session: Session, tenant_id: uuid.UUID) -> None:
        """Seed the built-in types for a tenant once; racing seeders are harmless."""
        if repo.count_builtin(session, tenant_id) >= len(BUILTIN_TYPES):
            return
        now = datetime.now(UTC)
        repo.insert_missing(
            session,
            (
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant_id,
                    "name": t.name,
                    "description": t.description,
                    "properties": _dump(t.properties),
                    "additional_properties": t.additional_properties,
                    "builtin": True,
                    "version": 1,
                    "created_at": now,
                    "created_by": "mantle",
                    "updated_at": now,
                }
                for t in BUILTIN_TYPES
            ),
        )
        seeded = [row for row in repo.list_all(session, tenant_id) if row.builtin]
        repo.insert_missing_versions(
            session,
            (
                {
                    "data_type_id": row.id,
                    "version": 1,
                    "description": row.description,
                    "properties": row.properties,
                    "additional_properties": row.additional_properties,
                    "created_at": row.created_at,
                    "created_by": "mantle",
                }
                for row in seeded
                if row.version == 1
            ),
        )

    def resolve(self, session: Session, tenant_id: uuid.UUID, name: str) -> SqlDataType:
        row = repo.get_by_name(session, tenant_id, name)
        if row is None and name in BUILTIN_NAMES:
            self.ensure_builtins(session, tenant_id)
            row = repo.get_by_name(session, tenant_id, name)
        if row is None:
            raise NotFoundError(f"data type '{name}' not found")
        return row

    def definitions_at(self, session: Session, row: SqlDataType, version: int):
        """The property definitions of `row` as they were at `version`."""
        if version == row.version:
            return definitions(row), row.additional_properties
        old = repo.get_version(session, row.id, version)
        if old is None:
            return definitions(row), row.additional_properties
        return definitions(old), old.additional_properties

    def list(self, session: Session, access: TenantAccess) -> list[DataTypePublic]:
        self.ensure_builtins(session, access.tenant_id)
        return [type_public(row) for row in repo.list_all(session, access.tenant_id)]

    def get(self, session: Session, access: TenantAccess, name: str) -> DataTypePublic:
        return type_public(self.resolve(session, access.tenant_id, name))

    def create(self, session: Session, access: TenantAccess, data: DataTypeCreate):
        check_definitions(data.properties)
        self.ensure_builtins(session, access.tenant_id)
        if repo.get_by_name(session, access.tenant_id, data.name) is not None:
            raise ConflictError(f"data type '{data.name}' already exists; update it instead")
        now, actor = datetime.now(UTC), access.principal.email
        row = repo.add(
            session,
            tenant_id=access.tenant_id,
            name=data.name,
            description=data.description,
            properties=_dump(data.properties),
            additional_properties=data.additional_properties,
            version=1,
            created_at=now,
            created_by=actor,
            updated_at=now,
        )
        self._snapshot(session, row, actor, now)
        sort_indexes.sync_after_commit(session, row)
        return type_public(row)

    def update(
        self, session: Session, access: TenantAccess, name: str, data: DataTypeUpdate
    ) -> DataTypePublic:
        row = self.resolve(session, access.tenant_id, name)
        if row.builtin:
            raise InvalidInputError(
                f"'{name}' is a built-in data type; create your own type to change it"
            )
        expected = data.expected_version if data.expected_version is not None else row.version
        if data.properties is not None:
            check_definitions(data.properties)
        if data.properties is not None or data.additional_properties is not None:
            self._check_datasets_stay_valid(session, access, row, data)
        values = {
            "description": row.description if data.description is None else data.description,
            "properties": row.properties if data.properties is None else _dump(data.properties),
            "additional_properties": row.additional_properties
            if data.additional_properties is None
            else data.additional_properties,
            "updated_at": datetime.now(UTC),
        }
        if not repo.bump_if_version(session, row.id, expected, **values):
            raise ConflictError(
                f"data type '{name}' changed since version {expected}; reload and try again"
            )
        session.refresh(row)
        self._snapshot(session, row, access.principal.email, values["updated_at"])
        if data.properties is not None:
            sort_indexes.sync_after_commit(session, row)
        return type_public(row)

    @staticmethod
    def _check_datasets_stay_valid(
        session: Session, access: TenantAccess, row: SqlDataType, data: DataTypeUpdate
    ) -> None:
        """Refuse a change that would make an existing dataset of the type invalid, naming
        the datasets and what to do about them."""
        new = data.properties if data.properties is not None else definitions(row)
        additional = (
            row.additional_properties
            if data.additional_properties is None
            else data.additional_properties
        )
        old = {p.name: p for p in definitions(row)}
        datasets = datasets_repo.properties_of_type(session, access.tenant_id, row.id)
        first = next(iter(datasets), None)
        if first is None:
            return  # no dataset to break
        for p in new:
            was = old.get(p.name)
            if was is not None and (was.type, was.items) != (p.type, p.items):
                raise ConflictError(
                    f"property '{p.name}' of '{row.name}' is {was.type}; datasets use it, so it "
                    f"cannot become {p.type}: add a new property instead"
                )
        broken: list[str] = []
        for number, values in chain([first], datasets):
            try:
                validate_properties(new, additional, values, type_name=row.name)
            except InvalidInputError as e:
                broken.append(f"{format_short_id(number)}: {e.message}")
        if broken:
            more = f" (and {len(broken) - 3} more datasets)" if len(broken) > 3 else ""
            raise ConflictError(
                f"this change would make {len(broken)} dataset(s) of '{row.name}' invalid: "
                + "; ".join(broken[:3])
                + more
                + ". Add new properties as optional, or fix those datasets first",
                details={"datasets": broken[:100]},
            )

    def versions(self, session: Session, access: TenantAccess, name: str):
        row = self.resolve(session, access.tenant_id, name)
        return [version_public(row.name, v) for v in repo.list_versions(session, row.id)]

    def version(self, session: Session, access: TenantAccess, name: str, version: int):
        row = self.resolve(session, access.tenant_id, name)
        found = repo.get_version(session, row.id, version)
        if found is None:
            raise NotFoundError(f"data type '{name}' has no version {version}")
        return version_public(row.name, found)

    @staticmethod
    def _snapshot(session: Session, row: SqlDataType, actor: str, at: datetime) -> None:
        repo.add_version(
            session,
            data_type_id=row.id,
            version=row.version,
            description=row.description,
            properties=row.properties,
            additional_properties=row.additional_properties,
            created_at=at,
            created_by=actor,
        )
