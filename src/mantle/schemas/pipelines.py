"""Pipelines: registration requests, what the API shows of pipelines and their versions, and
output rules (which published files become which datasets)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from mantle import import_syntax
from mantle.schemas.catalog import TYPE_NAME_PATTERN

PIPELINE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_OUTPUT_RULES = 50
MAX_GLOB_CHARS = 500
TEMPLATE_FIELDS = ("path", "file", "stem", "folder")  # always there, besides named groups


class OutputRule(BaseModel):
    """Published files (paths under `outputs/`) that become datasets of `data_type`.

    `glob` matches the whole relative path (`*` within a folder, `**` across folders, e.g.
    `star/*.bam`, `**/*.html`); `pattern`, when given, must also be found in the path, and its
    named groups become properties (RE2 syntax, e.g. `star/(?P<sample>[^/]+)\\.bam$`).
    `name` and the string values of `properties` are templates over the groups and `{path}`,
    `{file}`, `{stem}`, `{folder}`. `group_by` (a template such as `{sample}`) puts every file
    the rule matches with the same value into one dataset; without it each file is one.
    A file becomes a dataset through the first rule that matches it."""

    glob: str = Field(min_length=1, max_length=MAX_GLOB_CHARS)
    data_type: str = Field(pattern=TYPE_NAME_PATTERN)
    pattern: str | None = Field(default=None, max_length=import_syntax.MAX_PATTERN_CHARS)
    name: str | None = Field(default=None, max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict, max_length=100)
    group_by: str | None = Field(default=None, max_length=500)

    @field_validator("glob")
    @classmethod
    def _relative_glob(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/") or "\x00" in value:
            raise ValueError("a path relative to the outputs folder, e.g. star/*.bam")
        return value

    @field_validator("pattern")
    @classmethod
    def _re2_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            import_syntax.compile_pattern(value)
        return value

    @model_validator(mode="after")
    def _templates(self) -> OutputRule:
        groups = (
            set(import_syntax.compile_pattern(self.pattern).groupindex) if self.pattern else set()
        )
        known = groups | set(TEMPLATE_FIELDS)
        templates = [("name", self.name), ("group_by", self.group_by)]
        templates += [
            (f"properties.{k}", v) for k, v in self.properties.items() if isinstance(v, str)
        ]
        for where, template in templates:
            if template is None:
                continue
            try:
                fields = import_syntax.template_fields(template)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from e
            unknown = sorted(fields - known)
            if unknown:
                raise ValueError(
                    f"{where}: {{{unknown[0]}}} is neither a named group of the pattern nor "
                    f"one of {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
                )
        return self


class SamplesheetConfig(BaseModel):
    """How a run's samplesheet is made from its input datasets: the param that takes it
    (default: the schema's `file-path` + `text/csv` param with a `schema`) and the column
    mapping (default: inferred from `schema_input.json`). Sources: `sample` or
    `property:sample`, `id`, `name`, `file:R1`, `file:*.bam`, `value:auto`."""

    param: str | None = Field(default=None, max_length=200)
    columns: dict[str, str] | None = Field(default=None, max_length=200)


class PipelineCreate(BaseModel):
    """Register a Nextflow pipeline (or a script pipeline with a `mantle.yml`) from git.
    Registering an existing name adds a version to it."""

    repository: str = Field(min_length=1, max_length=2048, description="git URL or local path")
    revision: str = Field(default="main", min_length=1, max_length=255)
    name: str | None = Field(
        default=None, pattern=PIPELINE_NAME_PATTERN, description="Default: the repository's name."
    )
    description: str = Field(default="", max_length=2000)
    output_rules: list[OutputRule] | None = Field(default=None, max_length=MAX_OUTPUT_RULES)
    samplesheet: SamplesheetConfig | None = None


class PipelineVersionPublic(BaseModel):
    pipeline: str
    version: int
    engine: Literal["nextflow", "script"]
    revision: str
    commit: str
    main_script: str
    samplesheet_param: str | None
    samplesheet: SamplesheetConfig | None
    output_rules: list[dict[str, Any]]
    script: dict[str, Any] | None
    created_at: datetime
    created_by: str


class PipelinePublic(BaseModel):
    id: uuid.UUID
    name: str
    engine: Literal["nextflow", "script"]
    description: str
    repository: str
    builtin: bool
    latest_version: int
    revision: str
    commit: str
    created_at: datetime
    created_by: str
    updated_at: datetime = Field(description="When the latest version was registered")


class ParamsForm(BaseModel):
    """A pipeline version's launch form: its params in groups (from `nextflow_schema.json` or
    a script pipeline's params schema), which param takes a samplesheet, and the samplesheet's
    columns (from `schema_input.json`)."""

    pipeline: str
    version: int
    title: str = ""
    description: str = ""
    groups: list[dict[str, Any]]
    samplesheet_param: str | None = None
    samplesheet_columns: list[dict[str, Any]] = Field(default_factory=list)
    inputs: list[dict[str, Any]] = Field(default_factory=list, description="Script pipelines.")
