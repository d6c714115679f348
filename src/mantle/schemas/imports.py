"""Importing objects from a read bucket as datasets, without copying them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

FILES_ROLE = "files"


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


class ImportCreate(BaseModel):
    """Which objects become which datasets.

    `patterns` maps a file property of the data type (or `files`, the dataset's plain file
    list) to a regular expression, searched in each object key below `prefix`. Objects whose
    `key` group has the same value form one dataset; other named groups that name a property
    of the type fill it. E.g. for `fastq_pair`, with key `sample`:
        read1: `(?P<sample>[^/]+)_R1_001\\.fastq\\.gz$`
        read2: `(?P<sample>[^/]+)_R2_001\\.fastq\\.gz$`
    """

    environment: str | None = Field(default=None, description="Default: the default one.")
    bucket: str = Field(min_length=1, max_length=63, description="A configured read bucket.")
    prefix: str = Field(default="", max_length=1024)
    data_type: str = Field(min_length=1, max_length=64)
    patterns: dict[str, str] = Field(min_length=1, max_length=20)
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
    complete: bool = Field(description="False when the preview stopped before the listing's end.")


class ImportPublic(BaseModel):
    id: uuid.UUID
    status: str
    spec: ImportCreate
    progress: dict[str, Any]
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
