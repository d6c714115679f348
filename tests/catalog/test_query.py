"""Dataset queries on both engines: every operator on properties and fields, AND/OR/NOT
nesting, tags, dates, name text, sorting, cursor pages stable with ties, counts; exports."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def runs(lab):
    """Four datasets of an `rnaseq` type with every kind of property."""
    lab.ok("POST", "/data-types", 201, json={
        "name": "rnaseq",
        "properties": [
            {"name": "sample", "type": "string", "required": True},
            {"name": "depth", "type": "integer"},
            {"name": "score", "type": "float"},
            {"name": "paired", "type": "boolean"},
            {"name": "sequenced", "type": "datetime"},
            {"name": "lanes", "type": "list", "items": "integer"},
        ],
    })  # fmt: skip
    rows = [
        ("liver-1", {"sample": "LIV1", "depth": 10, "score": 0.5, "paired": True,
                     "sequenced": "2024-01-10", "lanes": [1, 2]}, ["raw"]),
        ("liver-2", {"sample": "LIV2", "depth": 30, "score": 1.5, "paired": False,
                     "sequenced": "2024-02-10", "lanes": [3]}, ["raw", "qc"]),
        ("brain-1", {"sample": "BRN1", "depth": 50, "paired": True,
                     "sequenced": "2024-03-10"}, ["qc"]),
        ("Brain_2%", {"sample": "BRN2"}, []),
    ]  # fmt: skip
    for name, properties, tags in rows:
        lab.ok("POST", "/datasets", 201, json={
            "name": name, "data_type": "rnaseq", "properties": properties, "tags": tags,
        })  # fmt: skip
    return lab


def names(lab, body: dict) -> list[str]:
    page = lab.ok("POST", "/datasets/query", json={"data_type": "rnaseq", "sort": "name", **body})
    return [d["name"] for d in page["items"]]


def prop(key, op, value=None):
    leaf = {"property": key, "op": op}
    return leaf if value is None else leaf | {"value": value}


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        (prop("sample", "eq", "LIV1"), ["liver-1"]),
        (prop("sample", "ne", "LIV1"), ["Brain_2%", "brain-1", "liver-2"]),
        (prop("depth", "lt", 30), ["liver-1"]),
        (prop("depth", "lte", 30), ["liver-1", "liver-2"]),
        (prop("depth", "gt", 30), ["brain-1"]),
        (prop("depth", "gte", "30"), ["brain-1", "liver-2"]),  # coerced to the declared int
        (prop("score", "gte", 1), ["liver-2"]),
        (prop("paired", "eq", True), ["brain-1", "liver-1"]),
        (prop("paired", "eq", "false"), ["liver-2"]),
        (prop("sequenced", "gte", "2024-02-10T00:00:00Z"), ["brain-1", "liver-2"]),
        (prop("sequenced", "lt", "2024-02-01"), ["liver-1"]),
        (prop("sample", "contains", "iv"), ["liver-1", "liver-2"]),
        (prop("lanes", "contains", 3), ["liver-2"]),
        (prop("sample", "in", ["LIV1", "BRN2"]), ["Brain_2%", "liver-1"]),
        (prop("depth", "exists"), ["brain-1", "liver-1", "liver-2"]),
        (prop("depth", "exists", False), ["Brain_2%"]),
        ({"field": "name", "op": "contains", "value": "BRAIN"}, ["Brain_2%", "brain-1"]),
        ({"field": "name", "op": "contains", "value": "_2%"}, ["Brain_2%"]),  # wildcards escaped
        ({"field": "name", "op": "eq", "value": "liver-2"}, ["liver-2"]),
        ({"field": "tag", "op": "eq", "value": "qc"}, ["brain-1", "liver-2"]),
        ({"field": "tag", "op": "ne", "value": "raw"}, ["Brain_2%", "brain-1"]),
        ({"field": "tag", "op": "in", "value": ["raw", "qc"]}, ["brain-1", "liver-1", "liver-2"]),
        ({"field": "id", "op": "in", "value": ["DS-000001", "DS-000004"]}, ["Brain_2%", "liver-1"]),
        ({"field": "created_at", "op": "gte", "value": "2000-01-01"}, ["Brain_2%", "brain-1",
                                                                      "liver-1", "liver-2"]),
        ({"field": "created_at", "op": "lt", "value": "2000-01-01"}, []),
    ],
)  # fmt: skip
def test_every_operator(runs, leaf, expected):
    assert names(runs, {"filter": leaf}) == expected


def test_and_or_not_nesting(runs):
    tree = {
        "or": [
            {"and": [prop("depth", "gte", 30), {"field": "tag", "op": "eq", "value": "raw"}]},
            {"and": [prop("sample", "contains", "BRN"), {"not": prop("depth", "exists")}]},
        ]
    }
    assert names(runs, {"filter": tree}) == ["Brain_2%", "liver-2"]
    assert names(runs, {"filter": {"and": []}}) == ["Brain_2%", "brain-1", "liver-1", "liver-2"]
    assert names(runs, {"filter": {"or": []}}) == []


def test_untyped_queries_compare_by_json_type(runs):
    page = runs.ok(
        "POST", "/datasets/query", json={"filter": prop("depth", "gt", 20), "sort": "name"}
    )
    assert [d["name"] for d in page["items"]] == ["brain-1", "liver-2"]
    # From a query string without a type, "30" matches the number 30 or the text "30".
    page = runs.ok("GET", "/datasets", params={"where": "depth=30"})
    assert [d["name"] for d in page["items"]] == ["liver-2"]


def test_query_string_form(runs):
    def get(**params):
        page = runs.ok("GET", "/datasets", params={"type": "rnaseq", "sort": "name", **params})
        return [d["name"] for d in page["items"]]

    assert get(where="sample=LIV1") == ["liver-1"]
    assert get(where=["depth>=30", "paired=true"]) == ["brain-1"]
    assert get(where="sample=[LIV1,LIV2]") == ["liver-1", "liver-2"]
    assert get(where="sample~=rn") == ["Brain_2%", "brain-1"]
    assert get(where="sample!=LIV1", tag="qc") == ["brain-1", "liver-2"]
    assert get(where="score?") == ["liver-1", "liver-2"]
    assert get(q="liver") == ["liver-1", "liver-2"]
    assert get(created_after="2000-01-01", created_before="2999-01-01") == [
        "Brain_2%", "brain-1", "liver-1", "liver-2",
    ]  # fmt: skip
    assert get(filter=json.dumps(prop("depth", "lt", 20))) == ["liver-1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"filter": prop("nope", "eq", 1)}, "has no property 'nope'"),
        ({"filter": prop("depth", "eq", "deep")}, "property 'depth'"),
        ({"filter": prop("depth", "near", 1)}, "unknown operator"),
        ({"filter": prop("sample", "in", "LIV1")}, "'in' takes a list"),
        ({"filter": {"and": {"x": 1}}}, "'and' takes a list"),
        ({"filter": {"field": "size", "op": "eq", "value": 1}}, "unknown field"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "properties.colour"}, "has no property 'colour'"),
        ({"sort": "properties.bad name"}, "not a property name"),
        ({"cursor": "garbage!"}, "cursor"),
    ],
)
def test_bad_queries_answer_422(runs, body, message):
    response = runs.request("POST", "/datasets/query", json={"data_type": "rnaseq", **body})
    assert response.status_code == 422 and message in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"filter": prop("sample\n", "eq", "LIV1")}, "is not a property name"),
        ({"sort": "properties.sample\n"}, "is not a property name"),
        ({"filter": {"field": "id", "op": "eq", "value": "DS-000001\n"}}, "dataset ids"),
    ],
)
def test_names_with_a_trailing_newline_answer_422(runs, body, message):
    response = runs.request("POST", "/datasets/query", json=body)  # untyped: any property
    assert response.status_code == 422 and message in response.json()["error"]["message"]


def walk(lab, sort: str, limit: int, **body) -> list[str]:
    """Every page of a query, following cursors; the names in order."""
    seen, cursor = [], None
    while True:
        page = lab.ok("POST", "/datasets/query", json={
            "sort": sort, "limit": limit, **body, **({"cursor": cursor} if cursor else {}),
        })  # fmt: skip
        seen += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("properties.depth", ["Brain_2%", "liver-1", "liver-2", "brain-1"]),  # missing first
        ("-properties.depth", ["brain-1", "liver-2", "liver-1", "Brain_2%"]),
        ("properties.sample", ["brain-1", "Brain_2%", "liver-1", "liver-2"]),
        ("-properties.sequenced", ["brain-1", "liver-2", "liver-1", "Brain_2%"]),
    ],
)
def test_sort_by_a_property_with_cursor_pages(runs, sort, expected):
    assert names(runs, {"sort": sort}) == expected
    assert walk(runs, sort, 1, data_type="rnaseq") == expected


def test_sort_by_a_property_of_mixed_types_pages_through_everything(lab):
    """Without a declared type a property may hold numbers, text, booleans, lists or nothing:
    the order is total (by JSON type, then value) and cursor pages neither skip nor repeat."""
    lab.ok("POST", "/data-types", 201, json={"name": "loose", "additional_properties": True})
    values = [5, "abc", None, True, 2.5, [1], "ABC", 5, False, 10, {"a": 1}]
    for i, value in enumerate(values):
        properties = {} if value is None else {"x": value}
        lab.ok("POST", "/datasets", 201, json={
            "name": f"d{i}", "data_type": "loose", "properties": properties,
        })  # fmt: skip
    for sort in ("properties.x", "-properties.x"):
        whole = walk(lab, sort, 100, data_type="loose")
        assert sorted(whole) == sorted(f"d{i}" for i in range(len(values)))
        for limit in (1, 2, 3):
            assert walk(lab, sort, limit, data_type="loose") == whole, (sort, limit)
    ascending = walk(lab, "properties.x", 100, data_type="loose")
    assert ascending[0] == "d2"  # no value first
    numbers = [n for n in ascending if isinstance(values[int(n[1:])], int | float)
               and not isinstance(values[int(n[1:])], bool)]  # fmt: skip
    assert [values[int(n[1:])] for n in numbers] == [2.5, 5, 5, 10]


def test_cursor_pages_are_stable_with_ties_and_count(lab):
    for i in range(7):  # created in quick succession: many share created_at on fast machines
        lab.ok("POST", "/datasets", 201, json={"name": f"same-{i % 2}", "data_type": "file"})
    for sort in ("-created_at", "created_at", "name", "-name", "id", "-updated_at"):
        seen, cursor, pages = [], None, 0
        while True:
            params = {
                "limit": 3,
                "sort": sort,
                "count": "true",
                **({"cursor": cursor} if cursor else {}),
            }
            page = lab.ok("GET", "/datasets", params=params)
            assert page["count"] == 7
            seen += [d["short_id"] for d in page["items"]]
            cursor, pages = page["next_cursor"], pages + 1
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 7 and pages == 3, sort
    names_sorted = lab.ok("GET", "/datasets", params={"sort": "name", "limit": 7})["items"]
    assert [(d["name"], d["short_id"]) for d in names_sorted] == sorted(
        (d["name"], d["short_id"]) for d in names_sorted
    )
    other_sort = lab.ok("GET", "/datasets", params={"limit": 3, "sort": "name"})["next_cursor"]
    refused = lab.request("GET", "/datasets", params={"cursor": other_sort, "sort": "id"})
    assert refused.status_code == 422


def test_export_csv_tsv_json(lab):
    lab.pair("S1", tags=["a", "b"])
    lab.pair("S2")
    sheet = lab.request(
        "GET",
        "/datasets/export",
        params={
            "type": "fastq_pair",
            "columns": "sample,fastq_1=read1,fastq_2=read2",
            "where": "sample=[S1,S2]",
        },
    )
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(sheet.text)))
    assert rows[0] == ["sample", "fastq_1", "fastq_2"]
    assert sorted(rows[1:]) == [
        ["S1", "s3://lab-reads/runs/S1_R1.fastq.gz", "s3://lab-reads/runs/S1_R2.fastq.gz"],
        ["S2", "s3://lab-reads/runs/S2_R1.fastq.gz", "s3://lab-reads/runs/S2_R2.fastq.gz"],
    ]
    tsv = lab.request(
        "GET", "/datasets/export", params={"type": "fastq_pair", "format": "tsv", "sort": "id"}
    )
    lines = [line.split("\t") for line in tsv.text.splitlines()]
    assert lines[0] == ["id", "name", "sample", "read1", "read2", "tags"]
    assert lines[1][0] == "DS-000001" and lines[1][-1] == "a;b"
    as_json = lab.request("GET", "/datasets/export", params={"format": "json", "sort": "id"}).json()
    assert [d["short_id"] for d in as_json] == ["DS-000001", "DS-000002"]
    assert as_json[0]["properties"]["sample"] == "S1"
    bad = lab.request("GET", "/datasets/export", params={"type": "fastq_pair", "columns": "nope"})
    assert bad.status_code == 422
    assert lab.request("GET", "/datasets/export", params={"format": "xlsx"}).status_code == 422


def test_exports_neutralise_spreadsheet_formulas(lab):
    lab.ok("POST", "/data-types", 201, json={"name": "assay", "properties": [
        {"name": "label", "type": "string"}, {"name": "delta", "type": "float"},
    ]})  # fmt: skip
    labels = ["=cmd|' /C calc'!A0", "@SUM(A1)", "+1+1", "-x", "\tx", "\rx", "-1.5", "plain",
              "x\r=cmd|' /C calc'!A0"]  # fmt: skip
    for i, label in enumerate(labels):
        lab.ok("POST", "/datasets", 201, json={
            "name": f"a{i}", "data_type": "assay", "properties": {"label": label, "delta": -1.5},
        })  # fmt: skip
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        text = lab.request("GET", "/datasets/export", params={
            "type": "assay", "format": fmt, "columns": "label,delta,@HYPERLINK()=name",
            "sort": "id",
        }).text  # fmt: skip
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        assert rows[0] == ["label", "delta", "'@HYPERLINK()"]
        assert [r[0] for r in rows[1:]] == [
            "'=cmd|' /C calc'!A0", "'@SUM(A1)", "'+1+1", "'-x", "'\tx", "'\rx", "-1.5", "plain",
            "x\r=cmd|' /C calc'!A0",  # one cell: the carriage return starts no row
        ]  # fmt: skip
        assert {r[1] for r in rows[1:]} == {"-1.5"}
    as_json = lab.request("GET", "/datasets/export", params={"type": "assay", "format": "json"})
    assert "=cmd|' /C calc'!A0" in [d["properties"]["label"] for d in as_json.json()]


def test_export_streams_every_page(lab, monkeypatch):
    from mantle.api.routes import datasets as routes

    monkeypatch.setattr(routes, "EXPORT_PAGE", 2)
    for i in range(5):
        lab.ok("POST", "/datasets", 201, json={"name": f"f{i}", "data_type": "file"})
    text = lab.request("GET", "/datasets/export", params={"sort": "id"}).text
    assert [row[0] for row in csv.reader(io.StringIO(text))][1:] == [
        f"DS-{n:06d}" for n in range(1, 6)
    ]
