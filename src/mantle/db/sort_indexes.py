"""Expression indexes that serve a data type's datasets sorted by one of its properties.

The Data page sorts a type's datasets by a property (`sort=properties.depth`) and pages with
keyset cursors. Without an index every page sorts all the type's rows by a JSON value (about
a second for 1M rows on either engine). With one index per (type, sortable property) a page
is a range of that index, as fast as a sort by name.

Each index is

    ON datasets (tenant_id, archived, <the dialect's sort key of the property>, number)
    WHERE data_type_id = '<the type's id>'

- the sort key is the expression `JsonPredicates.sort_keys` puts into the query, built by
  the same code and written with literals only, so both planners match it (SQLite compares
  an indexed expression with the query's by its parsed tree; PostgreSQL by its folded tree);
- `tenant_id` (one value per type) so that the tenant condition of the list, and on SQLite
  the skipping of a cursor's ties, are answered from the index;
- then `archived`: the list's default (`archived = false`) and `archived = true` are one
  range each; listing both together is not served (it sorts, as before);
- partial on the type: a dataset is only in its own type's indexes, so an insert updates at
  most MAX_PER_TYPE of them and each index holds one type's rows.

Which properties: the first MAX_PER_TYPE declared scalar ones (not lists) of a user-defined
type. Built-in types are seeded in every tenant and mostly take undeclared properties: they
get none (a sort by them works, unindexed). Names: `ix_dsort_<10 hex of the type>_<12 hex of
type + property>` (SHA-256), safe identifiers whatever the property is called; the type part
lets `sync_type` find a type's indexes and drop those of removed properties. Property names
only reach the DDL through `dialects.sort_key_name` (the property-name pattern, else refused).

When: `sync_after_commit` from the data type use cases (create, change of properties), after
the transaction commits; `sync_all` from `mantle db upgrade` (existing types, orphans of
deleted types and invalid leftovers). Building an index reads the whole datasets table once
(a partial index is still a full pass): about a second per million datasets for a new type,
more for a type with many datasets. On PostgreSQL `CREATE INDEX CONCURRENTLY` (autocommit)
so writers are not blocked; a failed concurrent build leaves an INVALID index, which is
dropped and rebuilt by the next sync. On SQLite the build holds the write lock (SQLite has one
writer anyway). Failures are logged, never raised to the caller: without its index a sort is
only slower.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, Index, MetaData, event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from mantle.db import dialects
from mantle.db.models import SqlDataset, SqlDataType
from mantle.schemas.catalog import PropertyType

log = logging.getLogger(__name__)

PREFIX = "ix_dsort_"
MAX_PER_TYPE = 8
SORTABLE = frozenset(
    {
        PropertyType.string,
        PropertyType.integer,
        PropertyType.float,
        PropertyType.boolean,
        PropertyType.datetime,
        PropertyType.file,
        PropertyType.dataset,
    }
)
# A copy of the table for rendering DDL: an Index built on the ORM's own table would join
# its metadata (and the ORM/migration comparison).
_TABLE = SqlDataset.__table__.to_metadata(MetaData())


def sortable_properties(definitions: Iterable[dict]) -> list[str]:
    """The properties of a type's definitions (stored form) that get an index, in order."""
    names = [
        d["name"]
        for d in definitions
        if d.get("type") in SORTABLE and dialects.SORT_KEY_NAME.fullmatch(str(d.get("name", "")))
    ]
    return names[:MAX_PER_TYPE]


def _hex(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def type_prefix(type_id: uuid.UUID) -> str:
    return f"{PREFIX}{_hex(type_id.hex)[:10]}_"


def index_name(type_id: uuid.UUID, prop: str) -> str:
    return type_prefix(type_id) + _hex(type_id.hex, prop)[:12]


def create_statement(dialect_name: str, type_id: uuid.UUID, prop: str) -> str:
    """`CREATE INDEX [CONCURRENTLY] IF NOT EXISTS ...` of one (type, property)."""
    json = dialects.JSON_PREDICATES[dialect_name]
    keys = json.sort_keys(_TABLE.c.properties, dialects.sort_key_name(prop))
    where = _TABLE.c.data_type_id == type_id
    index = Index(
        index_name(type_id, prop),
        _TABLE.c.tenant_id,
        _TABLE.c.archived,
        *keys,
        _TABLE.c.number,
        sqlite_where=where,
        postgresql_where=where,
        postgresql_concurrently=True,
    )
    try:
        dialect = dialects.DIALECTS[dialect_name]
        return str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect))
    finally:
        _TABLE.indexes.discard(index)


def existing(conn: Connection) -> dict[str, bool]:
    """The sort indexes in the database: name -> usable (PostgreSQL: not INVALID)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT c.relname, i.indisvalid FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_class t ON t.oid = i.indrelid"
                " WHERE t.relname = 'datasets' AND t.relnamespace = current_schema()::regnamespace"
                " AND starts_with(c.relname, :prefix)"
            ),
            {"prefix": PREFIX},
        )
    else:
        rows = conn.execute(
            text(
                "SELECT name, 1 FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'datasets' AND substr(name, 1, :n) = :prefix"
            ),
            {"n": len(PREFIX), "prefix": PREFIX},
        )
    return {name: bool(valid) for name, valid in rows}


def _ddl(engine: Engine, statements: list[str]) -> None:
    """Run DDL statements one by one, each committed on its own (PostgreSQL: autocommit, which
    CONCURRENTLY needs); a failure is logged and the rest still run."""
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn:
        for statement in statements:
            try:
                conn.exec_driver_sql(statement)
                if not options:
                    conn.commit()
            except Exception:  # a lock timeout, a race with another process, a full disk...
                log.exception("sort index: %s failed", statement.split(" ON ")[0])
                if not options:
                    conn.rollback()


def _drop(dialect_name: str, name: str) -> str:
    concurrently = "CONCURRENTLY " if dialect_name == "postgresql" else ""
    return f"DROP INDEX {concurrently}IF EXISTS {name}"  # our own name: a hex identifier


def plan_type(
    dialect_name: str, found: dict[str, bool], type_id: uuid.UUID, definitions: Iterable[dict]
) -> list[str]:
    """The DDL that makes one type's sort indexes those of its definitions."""
    wanted = {index_name(type_id, p): p for p in sortable_properties(definitions)}
    prefix = type_prefix(type_id)
    ours = {name: valid for name, valid in found.items() if name.startswith(prefix)}
    drops = [name for name, valid in ours.items() if name not in wanted or not valid]
    creates = [
        create_statement(dialect_name, type_id, prop)
        for name, prop in wanted.items()
        if not ours.get(name, False)
    ]
    return [_drop(dialect_name, name) for name in sorted(drops)] + creates


def sync_type(engine: Engine, type_id: uuid.UUID, definitions: Iterable[dict]) -> list[str]:
    """Create the missing sort indexes of one type, drop those it no longer wants; the DDL
    run (empty when everything is in place)."""
    with engine.connect() as conn:
        found = existing(conn)
    statements = plan_type(engine.dialect.name, found, type_id, definitions)
    _ddl(engine, statements)
    return statements


def sync_all(engine: Engine) -> list[str]:
    """Every user-defined type's sort indexes, and no index of a type that is gone."""
    with engine.connect() as conn:
        found = existing(conn)
        types = conn.execute(
            select(SqlDataType.id, SqlDataType.properties).where(SqlDataType.builtin.is_(False))
        ).all()
    statements: list[str] = []
    kept: set[str] = set()
    for type_id, definitions in types:
        kept.add(type_prefix(type_id))
        statements += plan_type(engine.dialect.name, found, type_id, definitions or [])
    orphans = [n for n in found if n[: len(type_prefix(uuid.UUID(int=0)))] not in kept]
    statements = [_drop(engine.dialect.name, n) for n in sorted(orphans)] + statements
    _ddl(engine, statements)
    return statements


def drop_all(engine: Engine) -> list[str]:
    """Drop every sort index (the benchmark's "before")."""
    with engine.connect() as conn:
        names = sorted(existing(conn))
    statements = [_drop(engine.dialect.name, name) for name in names]
    _ddl(engine, statements)
    return statements


def sync_after_commit(session: Session, row: SqlDataType) -> None:
    """Sync `row`'s sort indexes once the session's transaction has committed (DDL outside
    the request's transaction: CONCURRENTLY cannot run inside one, and a long build must not
    hold the type's new version uncommitted). Built-in types get none."""
    if row.builtin:
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    type_id, definitions = row.id, list(row.properties or [])

    def sync(_session: Session) -> None:
        try:
            sync_type(engine, type_id, definitions)
        except Exception:
            log.exception("sort indexes of data type %s: sync failed", type_id)

    event.listen(session, "after_commit", sync, once=True)
