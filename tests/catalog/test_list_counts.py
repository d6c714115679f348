"""The list's count on both engines: exact across pages, creations, changes, archiving and
restoring, while a selection's count is reused between its pages (CountCache); and on SQLite,
the list's queries use the indexes of migration 0011."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from mantle.catalog import query as catalog_query
from mantle.catalog.query import CountCache, select_datasets
from mantle.db.models import SqlDataType
from mantle.db.repositories import datasets as repo


@pytest.fixture
def counted(lab, monkeypatch):
    """`lab` with a `depth` type of five datasets; `calls` counts the COUNT queries run."""
    lab.ok("POST", "/data-types", 201, json={
        "name": "lib", "properties": [{"name": "depth", "type": "integer"}],
    })  # fmt: skip
    for depth in (10, 20, 30, 40, 50):
        lab.ok("POST", "/datasets", 201, json={
            "name": f"d{depth}", "data_type": "lib", "properties": {"depth": depth},
            "tags": ["deep"] if depth >= 30 else [],
        })  # fmt: skip
    calls = []
    real = repo.count

    def spy(session, conditions):
        calls.append(1)
        return real(session, conditions)

    monkeypatch.setattr(repo, "count", spy)
    lab.calls = calls
    return lab


def count(lab, **params) -> int:
    query = {"type": "lib", "limit": 2, "count": "true", **params}
    return lab.ok("GET", "/datasets", params=query)["count"]


def test_pages_of_one_selection_count_once(counted):
    params = {"type": "lib", "limit": 2, "count": "true", "where": "depth>=20", "sort": "name"}
    page = counted.ok("GET", "/datasets", params=params)
    totals = [page["count"]]
    while page["next_cursor"]:
        page = counted.ok("GET", "/datasets", params={**params, "cursor": page["next_cursor"]})
        totals.append(page["count"])
    assert totals == [4, 4]
    assert len(counted.calls) == 1  # the second page reused the first page's count
    assert count(counted, where="depth>=40") == 2  # another selection: counted
    assert count(counted, where="depth>=40", tag="deep") == 2
    assert len(counted.calls) == 3


def test_counts_follow_creations_changes_archiving_and_restoring(counted):
    assert count(counted, where="depth>=30") == 3
    counted.ok("POST", "/datasets", 201, json={
        "name": "d60", "data_type": "lib", "properties": {"depth": 60},
    })  # fmt: skip
    assert count(counted, where="depth>=30") == 4
    counted.ok("PATCH", "/datasets/DS-000001", json={"properties": {"depth": 99}})
    assert count(counted, where="depth>=30") == 5
    counted.ok("POST", "/datasets/DS-000002/archive")
    assert count(counted) == 5
    assert count(counted, archived="only") == 1
    counted.ok("POST", "/datasets/DS-000002/restore")
    assert count(counted) == 6
    assert count(counted, archived="only") == 0


def test_counts_are_per_tenant(counted, factory, api, app):
    from tests.catalog.conftest import make_lab

    other = make_lab(factory, api, app, "other-lab", "bob@example.com")
    other.ok("POST", "/data-types", 201, json={
        "name": "lib", "properties": [{"name": "depth", "type": "integer"}],
    })  # fmt: skip
    other.ok("POST", "/datasets", 201, json={
        "name": "x", "data_type": "lib", "properties": {"depth": 10},
    })  # fmt: skip
    assert count(counted) == 5
    assert count(other) == 1
    assert count(counted) == 5


def test_a_cached_count_expires(counted, app):
    """A change stamped by a clock behind the latest one leaves the mark as it was: the ttl
    bounds how long such a count can be reused."""
    now = [0.0]
    cache = CountCache(ttl=30, clock=lambda: now[0])
    with app.state.db.session() as s:
        type_row = s.scalar(select(SqlDataType).where(SqlDataType.name == "lib"))
        selection = select_datasets(
            s, type_row.tenant_id, type_row=type_row, filter_tree=None, tags=[],
            archived="exclude", sort="-created_at",
        )  # fmt: skip
        assert cache.count(s, type_row.tenant_id, selection) == 5
        now[0] = 29
        assert cache.count(s, type_row.tenant_id, selection) == 5
        assert len(counted.calls) == 1
        now[0] = 31
        assert cache.count(s, type_row.tenant_id, selection) == 5
        assert len(counted.calls) == 2


def test_the_cache_keeps_its_size(counted, app):
    cache = CountCache(size=2)
    with app.state.db.session() as s:
        type_row = s.scalar(select(SqlDataType).where(SqlDataType.name == "lib"))
        for depth in (10, 20, 30):
            tree = {"property": "depth", "op": "gte", "value": depth}
            selection = select_datasets(
                s, type_row.tenant_id, type_row=type_row, filter_tree=tree, tags=[],
                archived="exclude", sort="-created_at",
            )  # fmt: skip
            assert cache.count(s, type_row.tenant_id, selection) == 6 - depth // 10
    assert len(cache._entries) == 2


def plan(app, statement, params) -> str:
    with app.state.db.engine.connect() as conn:
        rows = conn.execute(text("EXPLAIN QUERY PLAN " + statement), params).all()
    return " / ".join(r[-1] for r in rows)


def test_the_list_uses_the_indexes_on_sqlite(counted, app):
    if app.state.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner; PostgreSQL's is covered by bench/ui_table.py --explain")
    tenant, type_id = counted.tenant_id.replace("-", ""), None
    with app.state.db.engine.connect() as conn:
        type_id = conn.execute(text("SELECT id FROM data_types WHERE name = 'lib'")).scalar_one()
    where = "tenant_id = :t AND data_type_id = :d AND archived = 0"
    params = {"t": tenant, "d": type_id}
    by_name = plan(
        app, f"SELECT * FROM datasets WHERE {where} ORDER BY name, number LIMIT 3", params
    )
    assert "ix_datasets_type_name" in by_name and "TEMP B-TREE" not in by_name
    by_property = plan(
        app,
        f"SELECT * FROM datasets WHERE {where} ORDER BY json_extract(properties, '$.depth')",
        params,
    )  # a full pass whatever the index: the one in insertion (created_at) order
    assert "ix_datasets_type_created" in by_property
    newest = plan(
        app, f"SELECT * FROM datasets WHERE {where} ORDER BY created_at DESC, number DESC", params
    )
    assert "ix_datasets_type_created" in newest and "TEMP B-TREE" not in newest
    counting = plan(app, f"SELECT count(*) FROM datasets WHERE {where}", params)
    assert "COVERING INDEX ix_datasets_type_created" in counting
    mark = plan(app, "SELECT max(updated_at) FROM datasets WHERE tenant_id = :t", params)
    assert "ix_datasets_updated" in mark


def test_count_key_tells_selections_apart(counted, app):
    with app.state.db.session() as s:
        type_row = s.scalar(select(SqlDataType).where(SqlDataType.name == "lib"))

        def key(tree):
            return select_datasets(
                s, type_row.tenant_id, type_row=type_row, filter_tree=tree, tags=[],
                archived="exclude", sort="-created_at",
            ).count_key(s)  # fmt: skip

        a = key({"property": "depth", "op": "gte", "value": 10})
        assert a == key({"property": "depth", "op": "gte", "value": 10})
        assert a != key({"property": "depth", "op": "gte", "value": 11})
        assert a != key({"property": "depth", "op": "lte", "value": 10})
    assert catalog_query.CountCache  # exported for the service


@pytest.mark.parametrize(
    "text", ["plain-1", "x/y", "é-sample", 'say "hi"', "back\\slash", "50%_off"]
)
def test_tags_and_text_equality_match_any_characters(lab, text):
    """On SQLite a row is skipped early unless its JSON text holds `"value"`, for plain
    characters only: other strings (escaped or spelled several ways in JSON) take the full
    check; the text elsewhere in the document, or inside a longer value, does not match."""
    lab.ok("POST", "/data-types", 201, json={"name": "loose", "additional_properties": True})
    rows = [
        ("hit", {"label": text}, [text]),
        ("longer", {"label": f"{text}-2"}, [f"{text}-2"]),
        ("elsewhere", {"other": text}, ["x"]),
    ]
    for name, properties, tags in rows:
        lab.ok("POST", "/datasets", 201, json={
            "name": name, "data_type": "loose", "properties": properties, "tags": tags,
        })  # fmt: skip

    def found(tree) -> list[str]:
        body = {"data_type": "loose", "filter": tree, "count": True, "sort": "name"}
        page = lab.ok("POST", "/datasets/query", json=body)
        assert page["count"] == len(page["items"])
        return [d["name"] for d in page["items"]]

    assert found({"property": "label", "op": "eq", "value": text}) == ["hit"]
    assert found({"property": "label", "op": "in", "value": [text, "nothing"]}) == ["hit"]
    assert found({"field": "tag", "op": "eq", "value": text}) == ["hit"]
    assert found({"property": "label", "op": "ne", "value": text}) == ["elsewhere", "longer"]
    assert found({"field": "tag", "op": "ne", "value": text}) == ["elsewhere", "longer"]
