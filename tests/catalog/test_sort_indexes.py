"""Sort indexes (db/sort_indexes.py): made for a type's declared scalar properties when the type
is created or its properties change, dropped with the property, safe names whatever the
property is called; the order and cursors of property sorts are those without the index; and
on SQLite a property-sorted cursor page is a range of the index (no sort)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from mantle.catalog.query import select_datasets
from mantle.db import dialects, migrate, sort_indexes
from mantle.db.models import SqlDataType

SAFE_NAME = re.compile(r"ix_dsort_[0-9a-f]{10}_[0-9a-f]{12}")
PROPS = [
    {"name": "depth", "type": "integer"},
    {"name": "sample", "type": "string"},
    {"name": "score", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "files", "type": "list", "items": "string"},  # a list: no index
]


def type_id(database, name: str) -> uuid.UUID:
    with database.session() as s:
        return s.scalar(select(SqlDataType.id).where(SqlDataType.name == name))


def indexes(database) -> set[str]:
    with database.engine.connect() as conn:
        return {name for name, valid in sort_indexes.existing(conn).items() if valid}


def walk(lab, data_type: str, sort: str, limit: int) -> tuple[list[str], list[str]]:
    """Every page of a type's datasets in one order: the names and the cursors."""
    seen, cursors, cursor = [], [], None
    while True:
        more = {"cursor": cursor} if cursor else {}
        page = lab.ok("GET", "/datasets", params={
            "type": data_type, "sort": sort, "limit": limit, **more,
        })  # fmt: skip
        seen += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, cursors
        cursors.append(cursor)


def test_indexes_follow_the_declared_scalar_properties(lab, database):
    lab.ok("POST", "/data-types", 201, json={"name": "assay", "properties": PROPS})
    tid = type_id(database, "assay")
    wanted = {sort_indexes.index_name(tid, p) for p in ("depth", "sample", "score", "ok")}
    assert indexes(database) >= wanted
    assert all(SAFE_NAME.fullmatch(n) for n in indexes(database))
    assert sort_indexes.index_name(tid, "files") not in indexes(database)
    # a property removed: its index goes; one added: it comes; the others stay
    changed = [p for p in PROPS if p["name"] != "score"] + [{"name": "lane", "type": "integer"}]
    lab.ok("PATCH", "/data-types/assay", json={"properties": changed})
    mine = {n for n in indexes(database) if n.startswith(sort_indexes.type_prefix(tid))}
    assert mine == {sort_indexes.index_name(tid, p) for p in ("depth", "sample", "ok", "lane")}
    # a description alone changes nothing; a second sync has nothing to do
    lab.ok("PATCH", "/data-types/assay", json={"description": "x"})
    with database.session() as s:
        row = s.get(SqlDataType, tid)
        assert sort_indexes.sync_type(database.engine, tid, row.properties) == []


def test_at_most_max_per_type_and_none_for_builtins(lab, database):
    many = [{"name": f"p{i}", "type": "integer"} for i in range(sort_indexes.MAX_PER_TYPE + 4)]
    lab.ok("POST", "/data-types", 201, json={"name": "wide", "properties": many})
    prefix = sort_indexes.type_prefix(type_id(database, "wide"))
    assert len({n for n in indexes(database) if n.startswith(prefix)}) == sort_indexes.MAX_PER_TYPE
    lab.ok("GET", "/data-types")  # seeds the built-in types (fastq declares `sample`)
    assert not {n for n in indexes(database) if n.startswith(sort_indexes.type_prefix(
        type_id(database, "fastq")))}  # fmt: skip


def test_upgrade_makes_missing_indexes_and_drops_orphans(lab, database, migrated_url):
    lab.ok("POST", "/data-types", 201, json={"name": "assay", "properties": PROPS[:2]})
    tid = type_id(database, "assay")
    sort_indexes.drop_all(database.engine)
    orphan = sort_indexes.create_statement(database.engine.dialect.name, uuid.uuid4(), "depth")
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(orphan)
    migrate.upgrade(migrated_url)
    assert indexes(database) == {sort_indexes.index_name(tid, p) for p in ("depth", "sample")}


@pytest.mark.parametrize(
    "name", ["_", "A" * 64, "x'); DROP TABLE datasets; --", 'a"b', "ä", "depth\n", "1x", ""]
)
def test_hostile_property_names(lab, database, name):
    """Names outside the property-name pattern never reach DDL: the API refuses them, and the
    module itself refuses them; names inside it give hex index names."""
    valid = dialects.SORT_KEY_NAME.fullmatch(name) is not None
    response = lab.request("POST", "/data-types", json={
        "name": "odd", "properties": [{"name": name, "type": "string"}],
    })  # fmt: skip
    assert response.status_code == (201 if valid else 422)
    if valid:
        assert sort_indexes.index_name(type_id(database, "odd"), name) in indexes(database)
        lab.ok("POST", "/datasets", 201, json={
            "name": "d1", "data_type": "odd", "properties": {name: "v"},
        })  # fmt: skip
        assert walk(lab, "odd", f"-properties.{name}", 1)[0] == ["d1"]
    else:
        with pytest.raises(ValueError):
            sort_indexes.create_statement("sqlite", uuid.uuid4(), name)
        with pytest.raises(ValueError):
            sort_indexes.create_statement("postgresql", uuid.uuid4(), name)
    assert all(SAFE_NAME.fullmatch(n) for n in indexes(database))


def _seed(lab) -> None:
    lab.ok("POST", "/data-types", 201, json={"name": "assay", "properties": PROPS})
    rows = [
        {"depth": 5, "sample": "b", "score": 2.5, "ok": True},
        {"depth": 5, "sample": "B", "score": -1.0, "ok": False},
        {"sample": "a"},  # missing values: first ascending, last descending
        {"depth": -3, "sample": "é", "score": 0.0, "ok": True},
        {"depth": 10, "sample": "ab", "score": 1e300},
        {"depth": 5, "sample": "b", "ok": False},
        {"depth": 9007199254740993, "sample": "", "score": 2.5},
        {},
    ]
    for i, properties in enumerate(rows):
        lab.ok("POST", "/datasets", 201, json={
            "name": f"d{i}", "data_type": "assay", "properties": properties,
        })  # fmt: skip


SORTS = [f"{d}properties.{p}" for p in ("depth", "sample", "score", "ok") for d in ("", "-")]


def test_same_order_and_cursors_with_and_without_the_index(lab, database):
    _seed(lab)
    with_index = {(s, n): walk(lab, "assay", s, n) for s in SORTS for n in (1, 3, 100)}
    sort_indexes.drop_all(database.engine)
    for (sort, limit), (names, cursors) in with_index.items():
        assert walk(lab, "assay", sort, limit) == (names, cursors), (sort, limit)
        assert names == with_index[(sort, 100)][0]
    depth = with_index[("properties.depth", 100)][0]
    assert depth[:2] == ["d2", "d7"] and depth[-2:] == ["d4", "d6"]  # missing, ..., 2**53 + 1
    assert with_index[("-properties.ok", 100)][0][:2] == ["d3", "d0"]  # true, by number desc
    assert with_index[("properties.sample", 100)][0] == ["d7", "d6", "d1", "d2", "d4", "d0",
                                                         "d5", "d3"]  # fmt: skip


def test_mixed_json_types_under_an_index(lab, database):
    """An index on a property of an open type, whose values may be of any JSON type: the
    order is total (SQLite: missing/null, numbers, text, false, true, lists and objects) and cursor
    pages neither skip nor repeat, the same as without the index."""
    lab.ok("POST", "/data-types", 201, json={"name": "loose", "additional_properties": True})
    values = [5, "abc", None, True, 2.5, [1], "ABC", 5, False, 10, {"a": 1}, "", -1e300]
    for i, value in enumerate(values):
        properties = {} if value is None else {"x": value}
        lab.ok("POST", "/datasets", 201, json={
            "name": f"d{i}", "data_type": "loose", "properties": properties,
        })  # fmt: skip
    plain = {(s, n): walk(lab, "loose", s, n) for s in ("properties.x", "-properties.x")
             for n in (1, 2, 100)}  # fmt: skip
    sort_indexes.sync_type(database.engine, type_id(database, "loose"), [
        {"name": "x", "type": "string"},
    ])  # fmt: skip
    assert sort_indexes.index_name(type_id(database, "loose"), "x") in indexes(database)
    for (sort, limit), expected in plain.items():
        assert walk(lab, "loose", sort, limit) == expected, (sort, limit)
    ascending = plain[("properties.x", 100)][0]
    if database.engine.dialect.name == "sqlite":  # PostgreSQL: jsonb's order (text first)
        assert ascending == [f"d{i}" for i in (2, 12, 4, 0, 7, 9, 11, 6, 1, 8, 3, 5, 10)]


def test_sqlite_pages_are_a_range_of_the_index(lab, database):
    if database.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    _seed(lab)
    tid = type_id(database, "assay")
    for sort in ("properties.depth", "-properties.sample", "properties.ok"):
        with database.session() as s:
            type_row = s.get(SqlDataType, tid)
            selection = select_datasets(
                s, type_row.tenant_id, type_row=type_row, filter_tree=None, tags=[],
                archived="exclude", sort=sort,
            )  # fmt: skip
            _, cursor = selection.page(s, 2)
            seen: list[tuple] = []

            def record(conn, cursor_, statement, parameters, context, executemany, seen=seen):
                seen.append((statement, parameters))

            event.listen(database.engine, "before_cursor_execute", record)
            try:
                selection.page(s, 2, cursor)
            finally:
                event.remove(database.engine, "before_cursor_execute", record)
            statement, parameters = seen[-1]
            raw = s.connection().connection.dbapi_connection.cursor()
            plan = " | ".join(row[3] for row in raw.execute(
                "EXPLAIN QUERY PLAN " + statement, parameters))  # fmt: skip
        name = sort_indexes.index_name(tid, sort.lstrip("-").split(".")[1])
        # the cursor's key is a range (`<expr>>?` ascending, `<expr><?` descending)
        assert re.search(
            rf"USING INDEX {name} \(tenant_id=\? AND archived=\? AND <expr>[<>]\?\)", plan
        ), plan
        assert "TEMP B-TREE" not in plan, plan


def test_two_types_after_indexes_are_made_by_another_connection(lab, database):
    """Two types' sorted pages on one connection, before and after their indexes are made by
    another connection. With the type's id bound, SQLite 3.40 kept a plan made for one id
    after such a schema change and answered the other type from the first type's partial
    index (no rows; seen in bench/ui_table.py, reproduced with plain sqlite3); the id is a
    literal now. This small setting did not reproduce the failure without the fix: it checks
    the behaviour, the bench run is the evidence."""
    for name in ("one", "two"):
        lab.ok("POST", "/data-types", 201, json={"name": name, "properties": PROPS[:1]})
        for i in range(5):
            lab.ok("POST", "/datasets", 201, json={
                "name": f"{name}{i}", "data_type": name, "properties": {"depth": i % 3},
            })  # fmt: skip
    expected = {name: walk(lab, name, "properties.depth", 2) for name in ("one", "two")}
    sort_indexes.drop_all(database.engine)
    rows = {}
    with database.engine.connect() as conn, Session(bind=conn) as s:

        def page(name: str) -> list[str]:
            type_row = s.scalar(select(SqlDataType).where(SqlDataType.name == name))
            selection = select_datasets(
                s, type_row.tenant_id, type_row=type_row, filter_tree=None, tags=[],
                archived="exclude", sort="properties.depth",
            )  # fmt: skip
            return [d.name for d in selection.page(s, 10)[0]]

        rows = {name: page(name) for name in ("one", "two")}  # statements prepared
        s.commit()
        sort_indexes.sync_all(database.engine)  # another connection than this one's
        for _ in range(2):
            for name in ("one", "two"):
                assert page(name) == rows[name] == expected[name][0], name
    assert len(rows["two"]) == 5
