"""A run's dataset inputs: named datasets and/or a catalog query, resolved within the tenant
(another tenant's dataset is not found), and turned into the run directory's `InputDataset`s.

The query is the CLI's short form: comma-separated conditions, `type=NAME` picks the data
type, `tag=T` a tag, anything else is a property condition as `--where` reads it
(`project=X`, `depth>=30`, `sample=[S1,S2]`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.datasets import Datasets, short_id
from mantle.catalog.query import parse_where
from mantle.db.models import SqlDataset
from mantle.errors import InvalidInputError
from mantle.rundir import InputDataset, InputFile
from mantle.schemas.catalog import DatasetQuery
from mantle.schemas.runs import RunInputs

# A query's matches are listed in one page (DatasetQuery's largest).
MAX_QUERY_MATCHES = 1000


def split_conditions(text: str) -> list[str]:
    """Split on commas outside `[...]` lists."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_query(text: str) -> DatasetQuery:
    data_type, tags, leaves = None, [], []
    for condition in split_conditions(text):
        key, _, value = condition.partition("=")
        if key.strip() == "type" and value:
            data_type = value.strip()
        elif key.strip() == "tag" and value:
            tags.append(value.strip())
        else:
            leaves.append(parse_where(condition))
    return DatasetQuery(
        filter={"and": leaves} if leaves else None,
        data_type=data_type,
        tags=tags,
        sort="name",
        limit=MAX_QUERY_MATCHES,
    )


def resolve(
    session: Session, access: TenantAccess, datasets: Datasets, inputs: RunInputs
) -> list[SqlDataset]:
    """The datasets a run reads, each once, in the order given (named first, then the query's
    matches by name)."""
    rows = datasets.resolve_many(session, access, inputs.datasets) if inputs.datasets else []
    if inputs.query:
        query = parse_query(inputs.query)
        matched, more = datasets.selection(session, access, query).page(session, MAX_QUERY_MATCHES)
        if more:
            raise InvalidInputError(
                f"inputs: the query matches more than {MAX_QUERY_MATCHES} datasets; narrow it"
            )
        if not matched:
            raise InvalidInputError(f"inputs: no dataset matches {inputs.query[:100]!r}")
        rows += matched
    unique: dict[object, SqlDataset] = {}
    for row in rows:
        unique.setdefault(row.id, row)
    return list(unique.values())


def input_dataset(row: SqlDataset) -> InputDataset:
    return InputDataset(
        id=str(row.id),
        short_id=short_id(row.number),
        name=row.name,
        data_type=row.data_type.name,
        properties=row.properties,
        files=[InputFile(name=f["name"], uri=f["uri"], size=f.get("size")) for f in row.files],
    )
