"""Dataset queries: a filter tree (or simple list parameters) turned into SQL, sorted, with
keyset (cursor) pagination and an optional count.

A filter is `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}` or a leaf:
`{"property": "sample", "op": "eq", "value": "S1"}` on a dataset property, or
`{"field": "name", "op": "contains", "value": "liver"}` on one of FIELDS. With a data type
given, property values are coerced to the declared types (so "5" compares as a number and
dates as instants); the engine-specific SQL lives in `mantle.db.dialects`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, false, func, not_, or_, select, true, tuple_
from sqlalchemy.orm import Session

from mantle.catalog import properties as props
from mantle.catalog.types import definitions
from mantle.db import dialects
from mantle.db.models import SqlDataset, SqlDataType
from mantle.db.repositories import datasets as repo
from mantle.errors import InvalidInputError
from mantle.schemas.bounds import INT32_MAX, utc_instant
from mantle.schemas.catalog import PropertyDef, PropertyType

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "exists")
ORDERED = ("lt", "lte", "gt", "gte")
MAX_DEPTH = 8
MAX_LEAVES = 100
MAX_IN = 1000
SORT_KEYS = {
    "created_at": SqlDataset.created_at,
    "updated_at": SqlDataset.updated_at,
    "name": SqlDataset.name,
    "id": SqlDataset.number,
}
TEXT_FIELDS = {
    "name": SqlDataset.name,
    "origin": SqlDataset.origin,
    "created_by": SqlDataset.created_by,
    "updated_by": SqlDataset.updated_by,
}
TIME_FIELDS = {"created_at": SqlDataset.created_at, "updated_at": SqlDataset.updated_at}
FIELDS = (*TEXT_FIELDS, *TIME_FIELDS, "tag", "id", "checksum")
_PROPERTY = re.compile(props.PROPERTY_NAME_PATTERN)


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(f"filter: {message}", details=[{"loc": ["filter"], "msg": message}])


def like_pattern(text: str) -> str:
    """`%text%`, lowercased, with LIKE's wildcards escaped (the escape character is `\\`)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_time(value: Any) -> datetime:
    try:
        return datetime.strptime(props.canonical_datetime(value), props.DATETIME_FORMAT).replace(
            tzinfo=UTC
        )
    except props.PropertyValueError as e:
        raise _invalid(str(e)) from e


class FilterBuilder:
    """Builds one SQL condition from a filter tree, for one tenant's datasets."""

    def __init__(self, session: Session, type_row: SqlDataType | None) -> None:
        self.json = dialects.json_predicates(session)
        self.type_name = type_row.name if type_row else None
        self.declared = {d.name: d for d in definitions(type_row)} if type_row else {}
        self.closed = type_row is not None and not type_row.additional_properties
        self.leaves = 0

    def build(self, node: Any, depth: int = 0) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise _invalid(f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            raise _invalid("each node is an object: {'and': [...]}, {'or': [...]} or a leaf")
        for group, combine in (("and", and_), ("or", or_)):
            if group in node:
                children = node[group]
                if not isinstance(children, list) or len(node) != 1:
                    raise _invalid(f"'{group}' takes a list and nothing beside it")
                if not children:
                    return true() if group == "and" else false()
                return combine(*[self.build(child, depth + 1) for child in children])
        if "not" in node:
            return not_(self.build(node["not"], depth + 1))
        return self._leaf(node)

    def _leaf(self, node: dict) -> ColumnElement[bool]:
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise _invalid(f"more than {MAX_LEAVES} conditions")
        op = node.get("op", "eq")
        if op not in OPERATORS:
            raise _invalid(f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
        value = node.get("value")
        if op != "exists":
            _check_value(op, value)
        if "property" in node:
            return self._property(str(node["property"]), op, value, bool(node.get("_text")))
        if "field" in node:
            return self._field(str(node["field"]), op, value)
        raise _invalid("a leaf names a 'property' or a 'field'")

    # -- properties -------------------------------------------------------------------------

    def _property(self, key: str, op: str, value: Any, text: bool) -> ColumnElement[bool]:
        if not _PROPERTY.fullmatch(key):
            raise _invalid(f"{key[:40]!r} is not a property name")
        definition = self.declared.get(key)
        if definition is None and self.closed:
            raise _invalid(f"data type '{self.type_name}' has no property '{key}'")
        column, j = SqlDataset.properties, self.json
        if op == "exists":
            present = j.has_key(column, key)
            return present if value in (None, True, "true") else not_(present)
        if op == "contains":
            return self._contains(key, value, definition, text)
        values = value if op == "in" else [value]
        candidates = [c for v in values for c in self._candidates(key, v, definition, text)]
        if op in ORDERED:
            return j.compare(column, key, op, self._ordered(key, candidates))
        matches = or_(*[j.equals(column, key, c) for c in candidates])
        return not_(matches) if op == "ne" else matches

    def _candidates(self, key: str, value: Any, definition: PropertyDef | None, text: bool):
        """The stored forms `value` may have: coerced to the declared type, or for text from
        a query string of an undeclared property, the string and what it reads as."""
        if definition is not None:
            try:
                return [props.coerce_scalar(definition, value)]
            except props.PropertyValueError as e:
                raise _invalid(f"property '{key}': {e}") from e
        if not text or not isinstance(value, str):
            return [value]
        found: list[Any] = [value]
        for reader in (props.SCALARS[PropertyType.integer], props.SCALARS[PropertyType.float]):
            try:
                found.append(reader(value))
                break
            except props.PropertyValueError:
                continue
        if value.lower() in ("true", "false"):
            found.append(value.lower() == "true")
        return found

    @staticmethod
    def _ordered(key: str, candidates: list[Any]) -> str | int | float:
        for c in reversed(candidates):  # the most specific reading: a number over its text
            if isinstance(c, int | float | str) and not isinstance(c, bool):
                return c
        raise _invalid(f"property '{key}': lt/lte/gt/gte compare numbers, dates or text")

    def _contains(self, key, value, definition: PropertyDef | None, text: bool):
        column, j = SqlDataset.properties, self.json
        if definition is not None and props.item_type(definition) is not None:
            items = self._candidates(key, value, definition, text)
            return or_(*[j.list_has(column, key, c) for c in items])
        substring = j.text_contains(column, key, like_pattern(str(value)))
        if definition is not None:
            return substring
        members = [j.list_has(column, key, c) for c in self._candidates(key, value, None, text)]
        return or_(substring, *members)

    # -- fields -----------------------------------------------------------------------------

    def _field(self, name: str, op: str, value: Any) -> ColumnElement[bool]:
        if name == "tag":
            return self._tag(op, value)
        if name == "checksum":
            return self._checksum(op, value)
        if name == "id":
            return self._compare(SqlDataset.number, op, _numbers(value))
        if name in TIME_FIELDS:
            if op in ("contains", "exists"):
                raise _invalid(f"'{name}' takes eq, ne, lt, lte, gt, gte or in")
            times = [parse_time(v) for v in value] if op == "in" else parse_time(value)
            return self._compare(TIME_FIELDS[name], op, times)
        if name in TEXT_FIELDS:
            column = TEXT_FIELDS[name]
            if op == "contains":
                return func.lower(column).like(like_pattern(str(value)), escape="\\")
            if op == "exists":
                raise _invalid(f"'{name}' always exists")
            return self._compare(column, op, value)
        raise _invalid(f"unknown field {name[:40]!r}; fields are {', '.join(FIELDS)}")

    def _tag(self, op: str, value: Any) -> ColumnElement[bool]:
        if op not in ("eq", "ne", "contains", "in"):
            raise _invalid("'tag' takes eq, ne, contains or in")
        tags = value if op == "in" else [value]
        has = or_(*[self.json.array_has(SqlDataset.tags, str(t)) for t in tags])
        return not_(has) if op == "ne" else has

    def _checksum(self, op: str, value: Any) -> ColumnElement[bool]:
        """Datasets with a file of this checksum (`crc32:<base64>`), or of any of them."""
        if op not in ("eq", "in"):
            raise _invalid("'checksum' takes eq or in")
        values = value if op == "in" else [value]
        if not all(isinstance(v, str) and v.isprintable() and len(v) <= 200 for v in values):
            raise _invalid("checksum: a string such as crc32:AAAAAA==")
        return or_(*[self.json.array_has_entry(SqlDataset.files, "checksum", v) for v in values])

    @staticmethod
    def _compare(column, op: str, value: Any) -> ColumnElement[bool]:
        if op == "in":
            return column.in_(value)
        if op == "exists":
            raise _invalid("'exists' is for properties")
        return {
            "eq": column == value,
            "ne": column != value,
            "lt": column < value,
            "lte": column <= value,
            "gt": column > value,
            "gte": column >= value,
        }[op]


def _check_value(op: str, value: Any) -> None:
    if op == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_IN:
            raise _invalid(f"'in' takes a list of 1 to {MAX_IN} values")
        for item in value:
            _check_value("eq", item)
        return
    if not isinstance(value, str | int | float | bool) or value is None:
        raise _invalid(f"'{op}' takes a string, number or boolean value")
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            props.check_int64(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise props.PropertyValueError("numbers must be finite")
    except props.PropertyValueError as e:
        raise _invalid(str(e)) from e


def _numbers(value: Any) -> Any:
    def number(v: Any) -> int:
        match = props.DATASET_REF.fullmatch(str(v))
        if match is None:
            raise _invalid(f"'id' compares dataset ids like DS-000042, not {str(v)[:40]!r}")
        return int(match.group(1))

    return [number(v) for v in value] if isinstance(value, list) else number(value)


# --- sorting and pagination ----------------------------------------------------------------


PROPERTY_SORT = "properties."


@dataclass(frozen=True)
class Sort:
    """An order: a field of SORT_KEYS or `properties.<name>` (a property's value; datasets
    without it come first), `-` for descending; the dataset number breaks ties."""

    key: str
    descending: bool
    json: dialects.JsonPredicates | None = None

    @classmethod
    def parse(cls, text: str, json: dialects.JsonPredicates | None = None, builder=None) -> Sort:
        descending = text.startswith("-")
        key = text.lstrip("-+")
        if key.startswith(PROPERTY_SORT):
            name = key[len(PROPERTY_SORT) :]
            if not _PROPERTY.fullmatch(name):
                raise InvalidInputError(f"sort: {name[:40]!r} is not a property name")
            if builder is not None and builder.closed and name not in builder.declared:
                raise InvalidInputError(
                    f"sort: data type '{builder.type_name}' has no property '{name}'"
                )
            return cls(key, descending, json)
        if key not in SORT_KEYS:
            raise InvalidInputError(
                f"sort: use one of {', '.join(SORT_KEYS)} or properties.<name> "
                "(prefix - for descending)"
            )
        return cls(key, descending, json)

    @property
    def text(self) -> str:
        return ("-" if self.descending else "") + self.key

    @property
    def property(self) -> str | None:
        return self.key[len(PROPERTY_SORT) :] if self.key.startswith(PROPERTY_SORT) else None

    def _keys(self) -> list:
        if self.property is not None:
            return self.json.sort_keys(SqlDataset.properties, self.property)
        return [SORT_KEYS[self.key]]

    def order_by(self) -> list:
        columns = self._keys() if self.key == "id" else [*self._keys(), SqlDataset.number]
        return [c.desc() if self.descending else c.asc() for c in columns]

    def after(self, cursor: dict) -> ColumnElement[bool]:
        """Rows strictly after the cursor's row in this order; `number` breaks ties."""
        if self.key == "id":
            left, right = SqlDataset.number, cursor["n"]
            return left < right if self.descending else left > right
        keys = [*self._keys(), SqlDataset.number]
        if self.property is not None:
            values = [*self.json.sort_values(cursor["v"]), cursor["n"]]
            return self.json.after(keys, values, self.descending)
        left, right = tuple_(*keys), tuple_(cursor["v"], cursor["n"])
        return left < right if self.descending else left > right

    def cursor_for(self, row: SqlDataset) -> str:
        if self.property is not None:
            value = row.properties.get(self.property)
        else:
            value = getattr(row, self.key) if self.key != "id" else row.number
        if isinstance(value, datetime):
            value = value.isoformat()
        raw = json.dumps({"s": self.text, "v": value, "n": row.number}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> dict:
        """The row a cursor of `cursor_for` names. A cursor comes back from the caller, so
        every part is checked before it reaches SQL."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(data, dict):
                raise ValueError
            number = data.get("n")
            if type(number) is not int or not 0 <= number <= INT32_MAX:
                raise ValueError
            if data.get("s") != self.text:
                raise InvalidInputError("cursor: it belongs to a list with another sort order")
            return {"n": number, "v": self._cursor_value(data.get("v"))}
        except (ValueError, TypeError, binascii.Error, RecursionError) as e:
            raise InvalidInputError("cursor: not a cursor from a previous page") from e

    def _cursor_value(self, value: Any) -> Any:
        if self.key == "id" or self.property is not None:
            return value  # a property's value may be any JSON
        if not isinstance(value, str):
            raise ValueError
        if self.key in TIME_FIELDS:
            return utc_instant(datetime.fromisoformat(value))
        return value


@dataclass
class Selection:
    """One query's SQL conditions and order, reusable for a page, a count or an export."""

    conditions: list[ColumnElement[bool]]
    sort: Sort

    def page(self, session: Session, limit: int, cursor: str | None = None):
        """Up to `limit` rows after `cursor`, and the cursor of the next page (or None)."""
        query = select(SqlDataset).where(*self.conditions)
        if cursor:
            query = query.where(self.sort.after(self.sort.decode(cursor)))
        rows = repo.page(session, query.order_by(*self.sort.order_by()).limit(limit + 1))
        if len(rows) <= limit:
            return rows, None
        return rows[:limit], self.sort.cursor_for(rows[limit - 1])

    def count(self, session: Session) -> int:
        return repo.count(session, self.conditions)

    def count_key(self, session: Session) -> tuple[str, str]:
        """The count's SQL and parameters: equal keys count the same rows."""
        compiled = repo.count_statement(self.conditions).compile(dialect=session.get_bind().dialect)
        return str(compiled), json.dumps(compiled.params, sort_keys=True, default=str)


class CountCache:
    """Counts of recent selections, reused while the tenant's datasets have not changed.

    A table pages through one selection and shows its count on every page; counting a
    million rows takes most of a second, a page change a few milliseconds. A count is reused
    only while the tenant's change mark (`repo.change_mark`: the last dataset number and the
    latest `updated_at`) is the one read before it was counted, so any creation or change in
    any process makes it stale. `ttl` bounds what a change stamped with a clock behind the
    latest `updated_at` (another machine's) could hide. The mark is read before the count:
    a change committed in between leaves an entry under a mark that is already gone.
    """

    def __init__(self, size: int = 256, ttl: float = 30.0, clock=time.monotonic) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._entries: OrderedDict[tuple, tuple[tuple, float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def count(self, session: Session, tenant_id, selection: Selection) -> int:
        mark = repo.change_mark(session, tenant_id)
        key = (tenant_id, *selection.count_key(session))
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == mark and now - entry[1] < self.ttl:
                self._entries.move_to_end(key)
                return entry[2]
        value = selection.count(session)
        with self._lock:
            self._entries[key] = (mark, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


def select_datasets(
    session: Session,
    tenant_id,
    *,
    type_row: SqlDataType | None,
    filter_tree: dict | None,
    tags: list[str],
    archived: str,
    sort: str,
) -> Selection:
    conditions: list[ColumnElement[bool]] = [SqlDataset.tenant_id == tenant_id]
    if type_row is not None:
        # The type's id written into the SQL, not bound: the sort indexes are partial on it
        # (db/sort_indexes.py), and SQLite 3.40 may keep a plan chosen for one bound id after
        # a schema change (an index made by another connection) and answer another type's
        # query from the first type's index: wrong rows. A literal gives each type its own
        # statement, whose plan never depends on a parameter.
        type_id = bindparam(None, type_row.id, SqlDataset.data_type_id.type, literal_execute=True)
        conditions.append(SqlDataset.data_type_id == type_id)
    # `=`, not `IS`: PostgreSQL serves only `=` from an index (the column is NOT NULL, so the
    # two agree), and ix_datasets_type_created has `archived` right after the type.
    if archived == "exclude":
        conditions.append(SqlDataset.archived == false())
    elif archived == "only":
        conditions.append(SqlDataset.archived == true())
    json_ops = dialects.json_predicates(session)
    conditions.extend(json_ops.array_has(SqlDataset.tags, tag) for tag in tags)
    builder = FilterBuilder(session, type_row)
    if filter_tree:
        conditions.append(builder.build(filter_tree))
    return Selection(conditions, Sort.parse(sort, json_ops, builder))


# --- the simple query-string form: where=sample=S1, where=depth>=30 ----------------------

_WHERE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|~=|=|<|>|\?)\s*(.*)$", re.DOTALL)
_WHERE_OPS = {"=": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def parse_where(expression: str) -> dict:
    """`sample=S1`, `depth>=30`, `name~=liver` (contains), `sample=[S1,S2]` (in),
    `lane?` (exists), `sample!=S1` -> a filter leaf on a property."""
    match = _WHERE.match(expression)
    if match is None:
        raise _invalid(f"cannot read {expression[:60]!r}; write it like sample=S1 or depth>=30")
    key, symbol, value = match.groups()
    leaf: dict[str, Any] = {"property": key, "_text": True}
    if symbol == "?":
        return leaf | {"op": "exists"}
    if symbol == "~=":
        return leaf | {"op": "contains", "value": value}
    if symbol == "=" and value.startswith("[") and value.endswith("]"):
        items = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        return leaf | {"op": "in", "value": items}
    return leaf | {"op": _WHERE_OPS[symbol], "value": value}
