"""Data types, datasets, their versions, queries and lineage as the API and SDK see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Anchored for pydantic, whose `$` is the end of the text. Python's `$` also matches before a
# final newline (`name\n` would pass `re.match`): check these with `re.fullmatch`.
TYPE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
PROPERTY_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
TAG_PATTERN = r"^[^\x00-\x1f,]{1,100}$"


class PropertyType(StrEnum):
    string = "string"
    integer = "integer"
    float = "float"
    boolean = "boolean"
    datetime = "datetime"
    file = "file"  # the URI of one of the dataset's files
    file_list = "file_list"
    dataset = "dataset"  # a reference to another dataset of the tenant (DS-000042)
    list = "list"  # a list of `items`


class Origin(StrEnum):
    upload = "upload"
    import_ = "import"
    pipeline_run = "pipeline_run"
    api = "api"


class ActivityKind(StrEnum):
    upload = "upload"
    import_ = "import"
    pipeline_run = "pipeline_run"
    manual = "manual"


# --- data types ----------------------------------------------------------------------------


class PropertyDef(BaseModel):
    name: str = Field(pattern=PROPERTY_NAME_PATTERN)
    type: PropertyType
    required: bool = False
    description: str = Field(default="", max_length=2000)
    enum: list[str | int | float] | None = Field(default=None, min_length=1, max_length=500)
    items: PropertyType | None = Field(
        default=None, description="Element type of a `list` property."
    )


class DataTypeCreate(BaseModel):
    name: str = Field(pattern=TYPE_NAME_PATTERN)
    description: str = Field(default="", max_length=2000)
    properties: list[PropertyDef] = Field(default_factory=list, max_length=200)
    additional_properties: bool = Field(
        default=False, description="Accept properties the type does not declare."
    )


class DataTypeUpdate(BaseModel):
    """A new version of the type; omitted fields keep their current value."""

    description: str | None = Field(default=None, max_length=2000)
    properties: list[PropertyDef] | None = Field(default=None, max_length=200)
    additional_properties: bool | None = None
    expected_version: int | None = None


class DataTypePublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: int
    properties: list[PropertyDef]
    additional_properties: bool
    builtin: bool
    created_at: datetime
    created_by: str
    updated_at: datetime


class DataTypeVersionPublic(BaseModel):
    name: str
    version: int
    description: str
    properties: list[PropertyDef]
    additional_properties: bool
    created_at: datetime
    created_by: str


# --- datasets ------------------------------------------------------------------------------


class FileRef(BaseModel):
    """A file already in object storage: in the tenant's write area (`tenant_store.uri(key)`)
    or in a read bucket, referenced in place."""

    uri: str = Field(min_length=1, max_length=2048)
    name: str | None = Field(default=None, max_length=1024)
    size: int | None = Field(default=None, ge=0)
    etag: str | None = Field(default=None, max_length=200)
    checksum: str | None = Field(default=None, max_length=200, description="e.g. sha256:<hex>")


class DatasetFile(BaseModel):
    uri: str
    name: str
    size: int | None = None
    etag: str | None = None
    checksum: str | None = None
    storage: Literal["stored", "referenced"]


class DatasetCreate(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    data_type: str = Field(pattern=TYPE_NAME_PATTERN)
    properties: dict[str, Any] = Field(default_factory=dict)
    files: list[FileRef] = Field(default_factory=list, max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=100)


class DatasetUpdate(BaseModel):
    """Changes to a dataset. `properties` is merged (a null value removes a property);
    `files` and `tags` replace the lists; `add_tags`/`remove_tags` edit the tag list."""

    name: str | None = Field(default=None, min_length=1, max_length=500)
    properties: dict[str, Any] | None = None
    files: list[FileRef] | None = Field(default=None, max_length=10_000)
    tags: list[str] | None = Field(default=None, max_length=100)
    add_tags: list[str] = Field(default_factory=list, max_length=100)
    remove_tags: list[str] = Field(default_factory=list, max_length=100)
    expected_version: int | None = Field(
        default=None, description="Refuse (409) unless the dataset is at this version."
    )


class DatasetPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    short_id: str
    name: str
    data_type: str
    data_type_version: int
    properties: dict[str, Any]
    files: list[DatasetFile]
    tags: list[str]
    origin: str
    archived: bool
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class DatasetVersionPublic(BaseModel):
    dataset_id: uuid.UUID
    short_id: str
    version: int
    change: str
    name: str
    data_type: str
    data_type_version: int
    properties: dict[str, Any]
    files: list[DatasetFile]
    tags: list[str]
    archived: bool
    created_at: datetime
    created_by: str


class DatasetPage(BaseModel):
    items: list[DatasetPublic]
    next_cursor: str | None = None
    count: int | None = Field(default=None, description="Matches in total, when asked for.")


class DatasetQuery(BaseModel):
    """A filter tree plus the list options. A leaf is
    `{"property": "sample", "op": "eq", "value": "S1"}` or
    `{"field": "name"|"created_at"|"updated_at"|"tag"|"origin"|"created_by", ...}`;
    groups are `{"and": [...]}`, `{"or": [...]}` and `{"not": {...}}`. Operators: eq, ne,
    lt, lte, gt, gte, contains, in, exists."""

    filter: dict[str, Any] | None = None
    data_type: str | None = Field(default=None, pattern=TYPE_NAME_PATTERN)
    tags: list[str] = Field(default_factory=list)
    archived: Literal["exclude", "include", "only"] = "exclude"
    sort: str = "-created_at"
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = None
    count: bool = False


# --- lineage -------------------------------------------------------------------------------


class ActivityCreate(BaseModel):
    kind: ActivityKind = ActivityKind.manual
    inputs: list[str] = Field(default_factory=list, max_length=10_000)
    outputs: list[str] = Field(default_factory=list, max_length=10_000)
    details: dict[str, Any] = Field(default_factory=dict)


class ActivityPublic(BaseModel):
    id: uuid.UUID
    kind: str
    details: dict[str, Any]
    inputs: list[str]
    outputs: list[str]
    created_at: datetime
    created_by: str


class LineageNode(BaseModel):
    id: str  # a dataset's short id, or an activity's UUID
    kind: Literal["dataset", "activity"]
    name: str = ""
    data_type: str | None = None
    activity_kind: str | None = None
    details: dict[str, Any] | None = None
    created_at: datetime | None = None
    archived: bool | None = None


class LineageEdge(BaseModel):
    source: str
    target: str


class LineageGraph(BaseModel):
    root: str
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = False
