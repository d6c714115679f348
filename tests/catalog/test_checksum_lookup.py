"""Finding datasets by a file's checksum (`?checksum=crc32:...`), which `mantle upload` uses to
skip content already uploaded: exact match on any file, within the type and the tenant."""

from __future__ import annotations

from tests.catalog.conftest import READ_BUCKET, make_lab


def _dataset(lab, name: str, checksum: str, data_type: str = "file") -> dict:
    files = [{"uri": f"{READ_BUCKET}{name}", "name": name, "size": 5, "checksum": checksum}]
    body = {"name": name, "data_type": data_type, "files": files}
    return lab.ok("POST", "/datasets", 201, json=body)


def _found(lab, query: str) -> list[str]:
    return [d["short_id"] for d in lab.ok("GET", f"/datasets?{query}")["items"]]


def test_datasets_by_file_checksum(lab, factory, api, app):
    a = _dataset(lab, "a.txt", "crc32:AAAAAA==")
    b = _dataset(lab, "b.txt", "crc32:BBBBBB==")
    _dataset(lab, "c.txt", "crc32:AAAAAA==", data_type="directory")
    assert _found(lab, "type=file&checksum=crc32:AAAAAA%3D%3D") == [a["short_id"]]
    both = _found(lab, "type=file&checksum=crc32:AAAAAA%3D%3D&checksum=crc32:BBBBBB%3D%3D")
    assert sorted(both) == sorted([a["short_id"], b["short_id"]])
    assert _found(lab, "checksum=crc32:AAAAAA") == []  # exact, not a prefix
    other = make_lab(factory, api, app, "other", "olga@example.com")
    _dataset(other, "theirs.txt", "crc32:AAAAAA==")
    assert _found(lab, "checksum=crc32:AAAAAA%3D%3D&type=file") == [a["short_id"]]
    tree = {"field": "checksum", "op": "eq", "value": "crc32:BBBBBB=="}
    page = lab.ok("POST", "/datasets/query", json={"filter": tree})
    assert [d["short_id"] for d in page["items"]] == [b["short_id"]]


def test_bad_checksum_filters_are_refused(lab):
    for tree in (
        {"field": "checksum", "op": "gt", "value": "x"},
        {"field": "checksum", "op": "eq", "value": 5},
        {"field": "checksum", "op": "eq", "value": "a\x00b"},
    ):
        response = lab.request("POST", "/datasets/query", json={"filter": tree})
        assert response.status_code == 422, response.text
