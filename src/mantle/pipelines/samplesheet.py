"""Samplesheets from catalog datasets: which param takes one, the CSV built from the selected
datasets through a column mapping, and the check against nf-core's `schema_input.json`.

A column mapping is `{column: source}`. Sources:
    sample, property:sample   a dataset property (`property:` when the name is also a field)
    id, short_id, uuid, name, data_type   a dataset field (`id` is the short id, as in exports)
    file:R1, file:R2          the read-1/read-2 file, by the usual names (`*_R1*`, `*_1.fq*`...)
    file:*.bam, file:x.txt    the first file (by name) matching a glob, or with that exact name
    value:auto                a constant
File properties (the `read1` of a `fastq_pair`) already hold the file's URI. Cells are made
spreadsheet-safe as in the catalog's exports (`catalog/export.py`).

Without a mapping one is inferred from the schema's column names and the datasets: a column
named like a property is that property; `sample`/`id` is the `sample` property or the name;
`fastq_1`/`fastq_2` are `read1`/`read2` (or `reads`), else the R1/R2 files; a column whose
schema has a default (or an enum with `auto`) gets that value.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import Callable, Iterable
from typing import Any

from jsonschema import ValidationError

from mantle.catalog.export import cell, spreadsheet_safe
from mantle.errors import InvalidInputError
from mantle.pipelines.schema import declared_params, ordered_properties, validator_for
from mantle.rundir import InputDataset, InputFile

FIELDS: dict[str, Callable[[InputDataset], Any]] = {
    "id": lambda d: d.short_id,
    "short_id": lambda d: d.short_id,
    "uuid": lambda d: d.id,
    "name": lambda d: d.name,
    "data_type": lambda d: d.data_type,
}
READ_GLOBS = {
    "R1": ("*_R1[._]*", "*_R1", "*_1.f*q*", "*.1.f*q*", "*_r1[._]*"),
    "R2": ("*_R2[._]*", "*_R2", "*_2.f*q*", "*.2.f*q*", "*_r2[._]*"),
}
READ_COLUMNS = {
    "fastq_1": ("read1", "reads", "fastq_1", "R1"),
    "fastq_2": ("read2", None, "fastq_2", "R2"),
    "read1": ("read1", "reads", "fastq_1", "R1"),
    "read2": ("read2", None, "fastq_2", "R2"),
    "fastq": ("reads", "read1", "fastq", "R1"),
}
SAMPLE_COLUMNS = ("sample", "id", "sample_id", "sample_name")
MAX_REPORTED = 50


def samplesheet_param(version: Any) -> str | None:
    """The param of `version` (a pipeline version row, or anything with `params_schema` and
    `samplesheet`) that takes a samplesheet: the one registered, or the first param with
    `format: file-path`, `mimetype: text/csv` and a `schema`."""
    configured = (getattr(version, "samplesheet", None) or {}).get("param")
    return find_samplesheet_param(getattr(version, "params_schema", None) or {}, configured)


def find_samplesheet_param(params_schema: dict, configured: str | None = None) -> str | None:
    if configured:
        return configured
    for name, spec in declared_params(params_schema).items():
        is_file = spec.get("format") == "file-path"
        if is_file and spec.get("mimetype") == "text/csv" and spec.get("schema"):
            return name
    return None


# --- building --------------------------------------------------------------------------------


def _find_file(files: list[InputFile], wanted: str) -> InputFile | None:
    ordered = sorted(files, key=lambda f: f.name)
    for f in ordered:
        if f.name == wanted:
            return f
    globs = READ_GLOBS.get(wanted.upper(), (wanted,))
    for glob in globs:
        for f in ordered:
            if fnmatch.fnmatchcase(f.name, glob) or fnmatch.fnmatchcase(
                f.name.split("/")[-1], glob
            ):
                return f
    return None


def _reader(source: str) -> Callable[[InputDataset], Any]:
    kind, sep, rest = source.partition(":")
    if sep and kind == "property":
        return lambda d: d.properties.get(rest)
    if sep and kind == "file":
        if not rest:
            raise InvalidInputError("samplesheet columns: 'file:' needs a role, name or glob")
        return lambda d: found.uri if (found := _find_file(d.files, rest)) else None
    if sep and kind == "value":
        return lambda _d: rest
    if source in FIELDS:
        return FIELDS[source]
    if sep:
        raise InvalidInputError(
            f"samplesheet columns: {source!r}: use property:NAME, file:ROLE|GLOB, value:TEXT "
            f"or one of {', '.join(FIELDS)}"
        )
    return lambda d: d.properties.get(source)


def build_samplesheet(columns: dict[str, str], datasets: list[InputDataset]) -> bytes:
    """The CSV with one row per dataset (in the order given) and one column per mapping."""
    if not columns:
        raise InvalidInputError("samplesheet columns: give at least one column")
    readers = [(header, _reader(source)) for header, source in columns.items()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([spreadsheet_safe(h) for h in columns])
    for dataset in datasets:
        row = [spreadsheet_safe(cell(read(dataset))).replace("\r", " ") for _, read in readers]
        writer.writerow(row)
    return buffer.getvalue().encode()


def _item_schema(input_schema: dict) -> dict:
    items = input_schema.get("items") if isinstance(input_schema, dict) else None
    return items if isinstance(items, dict) else {}


def default_columns(input_schema: dict | None, datasets: Iterable[InputDataset]) -> dict[str, str]:
    """A column mapping inferred from `schema_input.json`'s columns and the datasets' own
    properties and files (see the module's text)."""
    datasets = list(datasets)
    properties = ordered_properties(_item_schema(input_schema or {}))
    if not properties:
        return {"sample": "sample", "fastq_1": "file:R1", "fastq_2": "file:R2"}
    has = {key for d in datasets for key in d.properties}
    mapping: dict[str, str] = {}
    for column, spec in properties:
        spec = spec if isinstance(spec, dict) else {}
        source = _infer(column, spec, has)
        if source is not None:
            mapping[column] = source
    return mapping


def _infer(column: str, spec: dict, has: set[str]) -> str | None:
    lowered = column.lower()
    if lowered in READ_COLUMNS:
        first, second, _, role = READ_COLUMNS[lowered]
        for prop in (first, second, column):
            if prop and prop in has:
                return f"property:{prop}"
        return f"file:{role}"
    if column in has:
        return f"property:{column}"
    if lowered in SAMPLE_COLUMNS:
        return "property:sample" if "sample" in has else "name"
    if "default" in spec and spec["default"] is not None:
        return f"value:{cell(spec['default'])}"
    if "auto" in (spec.get("enum") or []):
        return "value:auto"
    return None


# --- checking --------------------------------------------------------------------------------


def _typed(value: str, spec: dict) -> Any:
    """A cell as nf-schema reads it: by the column's declared type, else the string."""
    kinds = spec.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    try:
        if "integer" in kinds and value.lstrip("+-").isdigit():
            return int(value)
        if "number" in kinds:
            return float(value) if "." in value or "e" in value.lower() else int(value)
        if "boolean" in kinds and value.lower() in ("true", "false"):
            return value.lower() == "true"
    except ValueError:
        return value
    return value


def _row_object(row: dict[str, str], properties: dict) -> dict[str, Any]:
    return {
        key: _typed(value, properties.get(key) or {})
        for key, value in row.items()
        if key is not None and value not in (None, "")
    }


def _column_of(error: ValidationError) -> tuple[str, str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        return (missing[0] if missing else ""), f"'{missing[0] if missing else ''}' is required"
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    return (path[0] if path else ""), (custom if isinstance(custom, str) else error.message)


def check_samplesheet(
    input_schema: dict,
    csv_bytes: bytes,
    *,
    exists: Callable[[str], bool] | None = None,
) -> None:
    """Each row of the samplesheet checked against `schema_input.json` (an array of row
    objects): types, `required`, `pattern`, `enum`, nf-schema's `uniqueEntries` and, when an
    `exists` callable is given, `exists: true` file columns. InvalidInputError naming the row
    (1 = the first row under the header) and column, with the schema's `errorMessage`."""
    items = _item_schema(input_schema)
    properties = items.get("properties") or {}
    validator = validator_for(items)
    try:
        reader = csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise InvalidInputError(f"samplesheet: not a readable CSV file ({e})") from e
    problems: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        obj = _row_object(row, properties)
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            column, message = _column_of(error)
            problems.append(
                {"row": number, "column": column, "rule": str(error.validator), "message": message}
            )
        if exists is not None:
            problems.extend(_missing_files(number, obj, properties, exists))
    problems.extend(_duplicates(rows, input_schema.get("uniqueEntries") or []))
    min_items = input_schema.get("minItems")
    if isinstance(min_items, int) and len(rows) < min_items:
        problems.append(
            {"row": 0, "column": "", "rule": "minItems",
             "message": f"needs at least {min_items} rows, has {len(rows)}"}
        )  # fmt: skip
    if problems:
        shown = "; ".join(
            f"row {p['row']}, column '{p['column']}': {p['message']}" if p["row"] else p["message"]
            for p in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidInputError(f"samplesheet: {shown}{more}", details=problems[:MAX_REPORTED])


def _missing_files(number: int, obj: dict, properties: dict, exists: Callable[[str], bool]):
    file_formats = ("file-path", "path", "directory-path")
    for column, value in obj.items():
        spec = properties.get(column) or {}
        checked = spec.get("exists") and spec.get("format") in file_formats
        if checked and isinstance(value, str) and not exists(value):
            yield {
                "row": number, "column": column, "rule": "exists",
                "message": f"file {value[:200]} does not exist",
            }  # fmt: skip


def _duplicates(rows: list[dict[str, str]], unique: list[str]):
    if not unique:
        return
    seen: dict[tuple, int] = {}
    for number, row in enumerate(rows, start=1):
        key = tuple(row.get(c) or "" for c in unique)
        if key in seen:
            yield {
                "row": number, "column": ",".join(unique), "rule": "uniqueEntries",
                "message": f"repeats row {seen[key]} in {', '.join(unique)}",
            }  # fmt: skip
        else:
            seen[key] = number


# --- for a launch ----------------------------------------------------------------------------


def make_samplesheet(
    version: Any,
    datasets: list[InputDataset],
    *,
    columns: dict[str, str] | None = None,
    exists: Callable[[str], bool] | None = None,
) -> bytes:
    """The samplesheet a launch of `version` writes for `datasets`: through `columns`, else
    the mapping registered with the version, else one inferred from its `schema_input.json`;
    checked against that schema when the version has one."""
    if not datasets:
        raise InvalidInputError("inputs: select at least one dataset for the samplesheet")
    configured = (getattr(version, "samplesheet", None) or {}).get("columns")
    input_schema = getattr(version, "input_schema", None)
    mapping = columns or configured or default_columns(input_schema, datasets)
    sheet = build_samplesheet(mapping, datasets)
    if input_schema:
        check_samplesheet(input_schema, sheet, exists=exists)
    return sheet
