"""Exports of a dataset selection: CSV or TSV (samplesheet-ready: one row per dataset, one
column per property, file properties as URIs) or JSON (a list of full datasets).

Pure formatting over a page source, streamed page by page, so an export of any size uses
the memory of one page. Columns are `source` or `header=source`, e.g.
`sample,fastq_1=read1,fastq_2=read2` for an nf-core samplesheet; a source is a dataset field
(FIELDS) or a property name (`properties.<name>` when a property shadows a field).

CSV and TSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
`@`, a tab or a carriage return) get a leading `'`, as OWASP advises against CSV injection;
plain numbers such as `-1.5` are left as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mantle.errors import InvalidInputError
from mantle.schemas.catalog import DatasetPublic, PropertyDef

FORMATS = ("csv", "tsv", "json")
MEDIA_TYPES = {"csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/json"}
FIELDS: dict[str, Callable[[DatasetPublic], Any]] = {
    "id": lambda d: d.short_id,
    "uuid": lambda d: str(d.id),
    "name": lambda d: d.name,
    "data_type": lambda d: d.data_type,
    "tags": lambda d: d.tags,
    "origin": lambda d: d.origin,
    "version": lambda d: d.version,
    "archived": lambda d: d.archived,
    "created_at": lambda d: d.created_at.isoformat(),
    "created_by": lambda d: d.created_by,
    "updated_at": lambda d: d.updated_at.isoformat(),
    "updated_by": lambda d: d.updated_by,
    "files": lambda d: [f.uri for f in d.files],
    "properties": lambda d: d.properties,
}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

PageSource = Callable[[str | None], tuple[list[DatasetPublic], str | None]]


@dataclass(frozen=True)
class Column:
    header: str
    read: Callable[[DatasetPublic], Any]


def columns(spec: str | None, declared: list[PropertyDef] | None) -> list[Column]:
    """The columns asked for, or a default: with a data type, its properties in order."""
    if not spec:
        if declared is None:
            names = ["id", "name", "data_type", "tags", "created_at", "properties"]
            return [_column(n, n, None) for n in names]
        own = [p.name for p in declared]
        fields = [n for n in ("id", "name") if n not in own]
        return [
            *[_column(n, n, declared) for n in fields],
            *[_column(n, f"properties.{n}", declared) for n in own],
            *([_column("tags", "tags", declared)] if "tags" not in own else []),
        ]
    found = []
    for part in spec.split(","):
        header, _, source = part.strip().partition("=")
        if not header:
            raise InvalidInputError(f"columns: empty column in {spec[:80]!r}")
        found.append(_column(header, source or header, declared))
    return found


def _column(header: str, source: str, declared: list[PropertyDef] | None) -> Column:
    if source.startswith("properties."):
        key = source.removeprefix("properties.")
        return Column(header, lambda d: d.properties.get(key))
    if source in FIELDS:
        return Column(header, FIELDS[source])
    if declared is not None and source not in {p.name for p in declared}:
        raise InvalidInputError(f"columns: {source!r} is neither a field nor a property")
    return Column(header, lambda d: d.properties.get(source))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def spreadsheet_safe(text: str) -> str:
    """`text`, with a leading `'` if a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _pages(source: PageSource) -> Iterator[list[DatasetPublic]]:
    cursor: str | None = None
    while True:
        items, cursor = source(cursor)
        yield items
        if cursor is None:
            return


def stream(fmt: str, source: PageSource, cols: list[Column]) -> Iterator[str]:
    if fmt not in FORMATS:
        raise InvalidInputError(f"format: use one of {', '.join(FORMATS)}")
    if fmt == "json":
        return _json(source)
    return _delimited(source, cols, "," if fmt == "csv" else "\t")


def _delimited(source: PageSource, cols: list[Column], delimiter: str) -> Iterator[str]:
    buffer = io.StringIO()
    write = _row_writer(buffer, delimiter)
    write([spreadsheet_safe(c.header) for c in cols])
    for items in _pages(source):
        for dataset in items:
            write([spreadsheet_safe(cell(c.read(dataset))) for c in cols])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _row_writer(buffer: io.StringIO, delimiter: str) -> Callable[[list[str]], None]:
    # csv quotes a field holding a newline but not a bare carriage return (only the line
    # terminator's characters count), which readers and spreadsheets take as the end of a
    # row: a value could start a row of its own, formula and all. Such rows are quoted whole.
    plain = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    quoted = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def write(row: list[str]) -> None:
        (quoted if any("\r" in value for value in row) else plain).writerow(row)

    return write


def _json(source: PageSource) -> Iterator[str]:
    yield "["
    first = True
    for items in _pages(source):
        for dataset in items:
            yield ("" if first else ",") + dataset.model_dump_json()
            first = False
    yield "]"
