"""Every SQLite/PostgreSQL difference lives here, so the rest of the code is engine-agnostic."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    cast,
    event,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

# PostgreSQL data exceptions that only a value itself can cause, and what to tell its sender.
_VALUE_SQLSTATES = {
    "22001": "a text value is longer than the database allows",
    "22003": "a number is out of range (integers are limited to 64 bits, versions to 2**31-1)",
    "22008": "a date or time is out of range",
    "22021": "a text value holds a character the database cannot store",
    "22P05": "a text value holds a character the database cannot store (such as \\u0000)",
}
_NUL = "text cannot contain NUL (\\x00) characters"


def value_problem(error: BaseException) -> str | None:
    """What is wrong with a value the database refused, when nothing but the value can be the
    cause (a number too large, a NUL character...); None for every other failure."""
    if isinstance(error, OverflowError) and "SQLite INTEGER" in str(error):
        return "a number is out of range (integers are limited to 64 bits)"
    if not isinstance(error, DataError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is None and "NUL (0x00)" in str(error.orig):  # psycopg refuses before sending
        return _NUL
    return _VALUE_SQLSTATES.get(sqlstate)


def normalize_url(url: str) -> str:
    """Accept the URLs users write (`postgresql://`, `postgres://`) and pick our drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def engine_options(url: str) -> dict:
    if is_sqlite(url):
        # Several threads of the server share the file; waiting beats failing with "locked".
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    # psycopg prepares a statement after five runs, and PostgreSQL then may switch it to a
    # generic plan, which for `key IN (:k1, ..., :k500)` scans every row of the tenant
    # (measured: 0.5 s per lookup during imports). Custom plans keep the parameters in view.
    return {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 20,
        "connect_args": {"options": "-c plan_cache_mode=force_custom_plan"},
    }


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert(session: Session, table: Table):
    """The engine's own `INSERT` construct, which offers `on_conflict_do_update`/`_nothing`
    (both engines spell it `INSERT ... ON CONFLICT`, and both support `RETURNING`)."""
    dialect = postgresql if dialect_name(session) == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignoring_conflicts(session: Session, table: Table):
    """`INSERT ... ON CONFLICT DO NOTHING`: safe when two transactions seed the same rows."""
    return upsert(session, table).on_conflict_do_nothing()


# --- predicates on one top-level property of a JSON document column ----------------------
#
# Every predicate is NULL-free (a missing property yields false, never NULL), so NOT and OR
# compose as users expect. Values are compared with their JSON type: a number never equals
# a string. On PostgreSQL equality and list membership are written as containment (`@>`) so
# a GIN index (jsonb_path_ops) on the column serves them.

Scalar = str | int | float | bool

COMPARISONS = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


class JsonPredicates:
    def equals(self, column, key: str, value: Scalar) -> ColumnElement[bool]:
        raise NotImplementedError

    def compare(self, column, key: str, op: str, value: str | int | float) -> ColumnElement[bool]:
        raise NotImplementedError

    def text_contains(self, column, key: str, pattern: str) -> ColumnElement[bool]:
        """Case-insensitive LIKE `pattern` (already escaped with backslash) on a string."""
        raise NotImplementedError

    def list_has(self, column, key: str, value: Scalar) -> ColumnElement[bool]:
        raise NotImplementedError

    def has_key(self, column, key: str) -> ColumnElement[bool]:
        raise NotImplementedError

    def array_has(self, column, value: str) -> ColumnElement[bool]:
        """The column itself is a JSON array (e.g. tags) holding `value`."""
        raise NotImplementedError

    def array_has_entry(self, column, key: str, value: str) -> ColumnElement[bool]:
        """The column is a JSON array of objects (e.g. files), one with `key` == `value`."""
        raise NotImplementedError

    def sort_keys(self, column, key: str) -> list[ColumnElement]:
        """Expressions that order rows by one property's value: a total order without NULLs
        (a missing property sorts like JSON null, first), so keyset pagination can compare
        them as a row value."""
        raise NotImplementedError

    def sort_values(self, value: Any) -> list:
        """What `sort_keys` evaluates to for a row whose property is `value` (None when it is
        missing): the right-hand side of a keyset comparison."""
        raise NotImplementedError

    def after(self, keys: list, values: list, descending: bool) -> ColumnElement[bool]:
        """Rows after (`keys`) = (`values`) in ascending order, or before when descending:
        the keyset condition of a cursor page sorted by a property (`keys`: `sort_keys` and
        the dataset number; `values`: `sort_values` and the cursor's number)."""
        left, right = tuple_(*keys), tuple_(*values)
        return left < right if descending else left > right


class _PostgresJson(JsonPredicates):
    @staticmethod
    def _doc(column):
        return coerce(column, JSONB)

    def _contains(self, column, document: Any) -> ColumnElement[bool]:
        return self._doc(column).op("@>", is_comparison=True)(
            bindparam(None, document, type_=JSONB)
        )

    def _typed(self, column, key: str, json_type: str) -> ColumnElement[bool]:
        return func.coalesce(func.jsonb_typeof(self._doc(column)[key]), "") == json_type

    def equals(self, column, key, value):
        return self._contains(column, {key: value})

    def compare(self, column, key, op, value):
        kind = "string" if isinstance(value, str) else "number"
        value_doc = bindparam(None, value, type_=JSONB)
        return and_(
            self._typed(column, key, kind), COMPARISONS[op](self._doc(column)[key], value_doc)
        )

    def text_contains(self, column, key, pattern):
        text_value = func.lower(self._doc(column)[key].astext)
        return and_(self._typed(column, key, "string"), text_value.like(pattern, escape="\\"))

    def list_has(self, column, key, value):
        return self._contains(column, {key: [value]})

    def has_key(self, column, key):
        return self._doc(column).has_key(key)

    def array_has(self, column, value):
        return self._contains(column, [value])

    def array_has_entry(self, column, key, value):
        return self._contains(column, [{key: value}])

    # jsonb's own order: null < strings < numbers < booleans < arrays < objects. The key is
    # written with literals (no parameters), exactly as db/sort_indexes.py's expression
    # indexes spell it, so the planner matches the two.
    def sort_keys(self, column, key):
        member = self._doc(column).op("->")(literal_column(_sql_string(sort_key_name(key))))
        return [func.coalesce(member, literal_column("'null'::jsonb", JSONB), type_=JSONB)]

    def sort_values(self, value):
        return [_json_null() if value is None else bindparam(None, value, type_=JSONB)]


def _json_null():
    return cast(literal("null"), JSONB)


class _SqliteJson(JsonPredicates):
    @staticmethod
    def _path(key: str):
        return literal(f'$."{key}"')

    def _type(self, column, key: str):
        return func.coalesce(func.json_type(column, self._path(key)), "")

    def _guard(self, column, key: str, value: Scalar) -> ColumnElement[bool]:
        if isinstance(value, str):
            return self._type(column, key) == "text"
        return self._type(column, key).in_(["integer", "real"])

    def _extract(self, column, key: str):
        return func.json_extract(column, self._path(key))

    def equals(self, column, key, value):
        if isinstance(value, bool):  # JSON1 extracts true as 1: ask for the JSON type
            return self._type(column, key) == ("true" if value else "false")
        match = and_(self._extract(column, key) == value, self._guard(column, key, value))
        return and_(_json_text_has(column, value), match)

    # The comparison first: most rows fail it after one parse of the document; the type check
    # (which keeps a number from matching text, as SQLite orders every number below text) runs
    # on the rest. A missing value fails both, so the result is never NULL.
    def compare(self, column, key, op, value):
        return and_(
            COMPARISONS[op](self._extract(column, key), value), self._guard(column, key, value)
        )

    def text_contains(self, column, key, pattern):
        text_value = func.lower(self._extract(column, key))
        return and_(self._type(column, key) == "text", text_value.like(pattern, escape="\\"))

    def list_has(self, column, key, value):
        return and_(
            self._type(column, key) == "array",
            self._each_has(func.json_each(column, self._path(key)), value),
        )

    def has_key(self, column, key):
        return self._type(column, key) != ""

    def array_has(self, column, value):
        return and_(_json_text_has(column, value), self._each_has(func.json_each(column), value))

    def array_has_entry(self, column, key, value):
        elements = func.json_each(column).table_valued("value")
        match = func.json_extract(elements.c.value, self._path(key)) == value
        return exists(select(literal(1)).select_from(elements).where(match))

    # One expression, so that one expression index (db/sort_indexes.py) serves the order and
    # the keyset comparison `(key, number) > (?, ?)` as a range. SQLite orders NULL < numbers
    # < text < blobs, which gives the JSON types their places without a rank column: missing
    # and JSON null are -Inf (below every finite number, and not NULL, so row-value
    # comparisons stay total), numbers and strings are themselves, booleans blobs x'00' (false)
    # < x'01' (true) above all text, lists and objects one blob x'02' (equal, the number
    # breaks ties). Written with literals only: SQLite matches an indexed expression against
    # the query's by its parsed tree, and a bound parameter never equals a literal there.
    _BLOBS = {"false": "x'00'", "true": "x'01'", "array": "x'02'", "object": "x'02'"}
    _MISSING = "-9e999"  # SQLite reads 9e999 as +Inf

    def sort_keys(self, column, key):
        path = literal_column(_sql_string(f'$."{sort_key_name(key)}"'))
        kind = func.json_type(column, path)
        blobs = {literal_column(f"'{k}'"): literal_column(v) for k, v in self._BLOBS.items()}
        value = func.coalesce(func.json_extract(column, path), literal_column(self._MISSING))
        return [case(blobs, value=kind, else_=value)]

    def sort_values(self, value):
        if value is None:
            return [float("-inf")]
        if isinstance(value, bool):
            return [b"\x01" if value else b"\x00"]
        if isinstance(value, int | float | str):
            return [value]
        return [b"\x02"]  # a list or an object

    # SQLite (3.40) matches a row-value comparison to an index only when its first element is
    # a column, not an indexed expression: `(key, number) > (?, ?)` would filter the whole
    # index from its start. `key >= ? AND (key > ? OR number > ?)` is the same set, and
    # `key >= ?` is a range of the index; the rows of the cursor's own key (ties) are then
    # skipped in the index (sort_indexes puts tenant_id in it, so no table row is read).
    def after(self, keys, values, descending):
        (key, number), (value, last) = keys, values
        if descending:
            return and_(key <= value, or_(key < value, number < last))
        return and_(key >= value, or_(key > value, number > last))

    @staticmethod
    def _each_has(each, value: Scalar) -> ColumnElement[bool]:
        elements = each.table_valued("value", "type")
        if isinstance(value, bool):
            match = elements.c.type == ("true" if value else "false")
        else:
            match = elements.c.value == value
        return exists(select(literal(1)).select_from(elements).where(match))


_PLAIN_TEXT = re.compile(r"[ !#-.0-\[\]-~]*")  # printable ASCII but ", \ and /


def _json_text_has(column, value: Scalar) -> ColumnElement[bool]:
    """A cheap first test on SQLite's JSON text: a string of plain characters held anywhere in
    the document appears in it as `"value"` (every JSON writer spells it so), so a row without
    that substring cannot match and is skipped before JSON1 parses it (tags and string
    equality over a million rows: a substring scan instead of a parse per row). Other values
    have several spellings (numbers, escapes): no shortcut."""
    if isinstance(value, str) and _PLAIN_TEXT.fullmatch(value):
        return func.instr(column, f'"{value}"') > 0
    return true()


SORT_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # the schema's property names


def sort_key_name(key: str) -> str:
    """`key` if it is a property name (the schema's PROPERTY_NAME_PATTERN), which sort keys
    and their indexes write into SQL as a literal; anything else is refused."""
    if not SORT_KEY_NAME.fullmatch(key):
        raise ValueError(f"not a property name: {key[:40]!r}")
    return key


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


JSON_PREDICATES: dict[str, JsonPredicates] = {
    "postgresql": _PostgresJson(),
    "sqlite": _SqliteJson(),
}
DIALECTS = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}


def json_predicates(session: Session) -> JsonPredicates:
    return JSON_PREDICATES["postgresql" if dialect_name(session) == "postgresql" else "sqlite"]
