"""Importing objects from a read bucket as datasets, without copying them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from mantle import import_syntax
from mantle.bucket_names import check_bucket_name

FILES_ROLE = "files"
UNMATCHED_SHOWN = 20


class BucketPublic(BaseModel):
    bucket: str
    prefix: str
    uri: str


class BucketObject(BaseModel):
    key: str
    size: int
    last_modified: datetime
    etag: str


class BucketListing(BaseModel):
    bucket: str
    prefix: str
    folders: list[str]
    objects: list[BucketObject]
    next_cursor: str | None = None


class ImportSpec(BaseModel):
    """Which objects become which datasets.

    `patterns` maps a file property of the data type (or `files`, the dataset's plain file
    list) to a regular expression (RE2 syntax: no backreferences or lookarounds), searched
    in each object key below `prefix`. Objects whose `key` group has the same value form one
    dataset; other named groups that name a property of the type fill it. E.g. for
    `fastq_pair`, with key `sample`:
        read1: `(?P<sample>[^/]+)_R1_001\\.fastq\\.gz$`
        read2: `(?P<sample>[^/]+)_R2_001\\.fastq\\.gz$`
    `name` and string `properties` are templates: `{group}` is replaced by what the named
    group captured (nothing else: no format specs).

    This is the spec as stored with an import job and shown back; `ImportCreate` is the one
    a request sends, checked in full.
    """

    environment: str | None = Field(default=None, description="Default: the default one.")
    bucket: str = Field(min_length=1, max_length=63, description="A configured read bucket.")
    prefix: str = Field(default="", max_length=1024)
    data_type: str = Field(min_length=1, max_length=64)
    patterns: dict[str, str] = Field(min_length=1, max_length=import_syntax.MAX_PATTERNS)
    key: str | None = Field(
        default="sample",
        max_length=64,
        description="Named group that identifies a dataset; null: one dataset per object.",
    )
    name: str | None = Field(
        default=None, max_length=500, description="Template, e.g. '{sample}'; default the key."
    )
    properties: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=100)

    @property
    def name_template(self) -> str | None:
        return self.name or ("{" + self.key + "}" if self.key else None)


class ImportCreate(ImportSpec):
    """An import as requested: bucket name, patterns and templates checked before anything
    is listed (a 422 names the bad pattern or placeholder)."""

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, patterns: dict[str, str]) -> dict[str, str]:
        for role, pattern in patterns.items():
            try:
                import_syntax.compile_pattern(pattern)
            except ValueError as e:
                raise ValueError(f"pattern {role!r}: {e}") from e
        return patterns

    @field_validator("name")
    @classmethod
    def _name(cls, template: str | None) -> str | None:
        if template is not None:
            import_syntax.template_fields(template)
        return template

    @field_validator("properties")
    @classmethod
    def _property_templates(cls, properties: dict[str, Any]) -> dict[str, Any]:
        for name, value in properties.items():
            if isinstance(value, str):
                try:
                    import_syntax.template_fields(value)
                except ValueError as e:
                    raise ValueError(f"property {name!r}: {e}") from e
        return properties

    @model_validator(mode="after")
    def _fields_captured(self) -> ImportCreate:
        """The key and every template field must be a named group of every pattern."""
        captured = captured_groups(self.patterns)
        if self.key and self.key not in captured:
            raise ValueError(f"key: every pattern needs a named group (?P<{self.key}>...)")
        templates = {"name": self.name_template} | {
            f"properties.{n}": v for n, v in self.properties.items() if isinstance(v, str)
        }
        for where, template in templates.items():
            unknown = sorted(import_syntax.template_fields(template or "") - captured)
            if unknown:
                raise ValueError(
                    f"{where}: {', '.join('{' + u + '}' for u in unknown)} is not a named "
                    "group of every pattern"
                )
        return self


def captured_groups(patterns: dict[str, str]) -> set[str]:
    """The named groups every one of `patterns` has."""
    compiled = [import_syntax.compile_pattern(p) for p in patterns.values()]
    return set.intersection(*(set(p.groupindex) for p in compiled))


class PlannedDatasetPublic(BaseModel):
    key: str
    name: str
    properties: dict[str, Any]
    files: list[str]
    problems: list[str] = Field(default_factory=list)
    exists: bool = False


class ImportPreview(BaseModel):
    objects_scanned: int
    objects_matched: int
    datasets: list[PlannedDatasetPublic]
    unmatched: list[str] = Field(
        default_factory=list,
        description=f"The first keys (up to {UNMATCHED_SHOWN}) that no pattern matched, to "
        "see what a pattern misses.",
    )
    complete: bool = Field(description="False when the preview stopped before the listing's end.")


class ImportPublic(BaseModel):
    id: uuid.UUID
    status: str
    spec: ImportSpec
    progress: dict[str, Any]
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
