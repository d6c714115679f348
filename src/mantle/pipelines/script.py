"""Script pipelines: one command, optionally in a container image, with typed inputs, params
(a JSON schema) and output rules, declared in a small YAML file (`mantle.yml` at the root of a
git repository, or shipped with Mantle under `pipelines/builtin/`).

    name: fastq-stats
    description: Reads, bases, mean quality and GC of FASTQ files.
    command: ["{python}", "-m", "mantle.pipelines.builtin.fastq_stats"]
    image: null
    inputs:
      - {name: reads, data_types: [fastq, fastq_pair], multiple: true}
    params: {type: object, properties: {...}}
    outputs:
      - {glob: fastq_stats.csv, data_type: table}
    resources: {cpus: 1, memory_mb: 2048}

The protocol the launcher implements: the command runs (no shell) with
    MANTLE_PARAMS_FILE   the params (JSON object)
    MANTLE_INPUTS_FILE   JSON: [{"dataset": {"id", "short_id", "name", "data_type",
                         "properties"}, "files": [{"name", "path"}]}], files staged locally
    MANTLE_OUTDIR        the folder to write outputs into
and exit code 0 means success. `{python}` in an argument is the launcher's own interpreter,
`{pipeline}` the checkout of the pipeline's repository (script pipelines from git).
`ScriptSpec.model_dump()` is what `SqlPipelineVersion.script` and run.json's
`pipeline.script` hold.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from mantle.errors import InvalidInputError
from mantle.pipelines.schema import check_schema
from mantle.schemas.catalog import TYPE_NAME_PATTERN
from mantle.schemas.pipelines import MAX_OUTPUT_RULES, PIPELINE_NAME_PATTERN, OutputRule

SPEC_FILE = "mantle.yml"
MAX_SPEC_BYTES = 256 * 1024
ENV_PARAMS_FILE = "MANTLE_PARAMS_FILE"
ENV_INPUTS_FILE = "MANTLE_INPUTS_FILE"
ENV_OUTDIR = "MANTLE_OUTDIR"
BUILTIN_SPECS = ("fastq-stats.yml",)


class ScriptInput(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    data_types: list[str] = Field(default_factory=list, max_length=50)
    multiple: bool = True
    required: bool = True
    description: str = Field(default="", max_length=2000)

    @field_validator("data_types")
    @classmethod
    def _type_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(TYPE_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a data type name")
        return value


class ScriptResources(BaseModel):
    cpus: int = Field(default=1, ge=1, le=256)
    memory_mb: int = Field(default=2048, ge=64, le=4 * 1024 * 1024)
    time_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 14)


class ScriptSpec(BaseModel):
    name: str = Field(pattern=PIPELINE_NAME_PATTERN)
    description: str = Field(default="", max_length=2000)
    command: list[str] = Field(min_length=1, max_length=200)
    image: str | None = Field(default=None, max_length=500)
    inputs: list[ScriptInput] = Field(default_factory=list, max_length=20)
    params: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    outputs: list[OutputRule] = Field(default_factory=list, max_length=MAX_OUTPUT_RULES)
    resources: ScriptResources = Field(default_factory=ScriptResources)

    @field_validator("command")
    @classmethod
    def _argv(cls, value: list[str]) -> list[str]:
        if any(not arg or "\x00" in arg or len(arg) > 4096 for arg in value):
            raise ValueError("arguments must be non-empty strings without NUL characters")
        return value

    @field_validator("params")
    @classmethod
    def _params_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            check_schema(value)
        except InvalidInputError as e:
            raise ValueError(e.message) from e
        return value


def parse_spec(text: bytes | str, *, source: str = SPEC_FILE) -> ScriptSpec:
    """The spec in `text` (YAML, safe-loaded), or InvalidInputError naming the bad field."""
    if len(text) > MAX_SPEC_BYTES:
        raise InvalidInputError(f"{source}: larger than {MAX_SPEC_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{source}: not valid YAML ({str(e)[:300]})") from e
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: the top level must be a mapping (name, command...)")
    try:
        return ScriptSpec.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise InvalidInputError(
            f"{source}: {where}: {first['msg']}",
            details=[
                {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
                for err in e.errors()[:20]
            ],
        ) from e


def builtin_specs() -> list[tuple[ScriptSpec, bytes]]:
    """The script pipelines shipped with Mantle, with their YAML text."""
    folder = resources.files("mantle.pipelines.builtin")
    found = []
    for file_name in BUILTIN_SPECS:
        text = folder.joinpath(file_name).read_bytes()
        found.append((parse_spec(text, source=file_name), text))
    return found


def check_inputs(script: ScriptSpec | dict[str, Any], datasets: list[Any]) -> None:
    """Refuse input datasets (anything with `short_id` and `data_type`, e.g. run.json's
    `InputDataset`) a script pipeline does not take: a data type none of its inputs accepts,
    several datasets for an input that takes one, none for a required input."""
    spec = script if isinstance(script, ScriptSpec) else ScriptSpec.model_validate(script)
    if not spec.inputs:
        if datasets:
            raise InvalidInputError(f"inputs: {spec.name} takes no input datasets")
        return
    taken: dict[str, list[str]] = {item.name: [] for item in spec.inputs}
    for dataset in datasets:
        item = next(
            (i for i in spec.inputs if not i.data_types or dataset.data_type in i.data_types), None
        )
        if item is None:
            accepted = sorted({t for i in spec.inputs for t in i.data_types})
            raise InvalidInputError(
                f"inputs: {dataset.short_id} is a '{dataset.data_type}'; {spec.name} takes "
                f"{', '.join(accepted)}"
            )
        taken[item.name].append(dataset.short_id)
    for item in spec.inputs:
        found = taken[item.name]
        if item.required and not found:
            kinds = ", ".join(item.data_types) or "any type"
            raise InvalidInputError(f"inputs: '{item.name}' needs a dataset ({kinds})")
        if not item.multiple and len(found) > 1:
            raise InvalidInputError(
                f"inputs: '{item.name}' takes one dataset, got {len(found)} ({', '.join(found)})"
            )
