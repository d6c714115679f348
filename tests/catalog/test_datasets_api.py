"""Datasets through the API: create with validated properties and files, versions and any
version viewable, archive and restore, optimistic concurrency (If-Match, 409)."""

from __future__ import annotations

import pytest

from tests.catalog.conftest import READ_BUCKET, make_lab


def test_create_validates_properties_and_names_the_property(lab):
    bad = lab.request(
        "POST",
        "/datasets",
        json={"name": "x", "data_type": "fastq_pair", "properties": {"sample": "S1"}},
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["message"].startswith("property 'read1': required")
    assert {d["property"] for d in error["details"]} == {"read1", "read2"}
    unknown = lab.request("POST", "/datasets", json={"name": "x", "data_type": "nope"})
    assert unknown.status_code == 422 and "data_type" in unknown.json()["error"]["message"]


def test_created_dataset_has_short_id_files_and_history(lab):
    first = lab.pair("S1", tags=["batch1", "batch1", " qc "])
    second = lab.pair("S2")
    assert (first["short_id"], second["short_id"]) == ("DS-000001", "DS-000002")
    assert first["tags"] == ["batch1", "qc"] and first["origin"] == "api"
    assert first["created_by"] == first["updated_by"] == "alice@example.com"
    assert [(f["name"], f["storage"]) for f in first["files"]] == [
        ("S1_R1.fastq.gz", "referenced"),
        ("S1_R2.fastq.gz", "referenced"),
    ]
    by_uuid = lab.ok("GET", f"/datasets/{first['id']}")
    by_short = lab.ok("GET", "/datasets/ds-1")
    assert by_uuid == by_short == first


def test_stored_files_must_be_in_the_tenants_own_area(factory, api, app, lab):
    uri = lab.stored_uri("uploads/S9_R1.fastq.gz")
    body = {
        "name": "mine",
        "data_type": "file",
        "files": [{"uri": uri, "size": 17, "etag": "abc", "checksum": "sha256:00"}],
    }
    created = lab.ok("POST", "/datasets", 201, json=body)
    assert created["files"][0] | {"uri": None} == {
        "uri": None, "name": "S9_R1.fastq.gz", "size": 17, "etag": "abc",
        "checksum": "sha256:00", "storage": "stored",
    }  # fmt: skip
    other = make_lab(factory, api, app, "beta-labs", "bob@example.com")
    refused = other.request("POST", "/datasets", json=body)
    assert refused.status_code == 422 and "outside this tenant" in refused.text


@pytest.mark.parametrize(
    "uri",
    [
        f"{READ_BUCKET}../secret/x.fastq",
        f"{READ_BUCKET}a/%2e%2e/%2e%2e/x",
        f"{READ_BUCKET}a\x00b",
        f"{READ_BUCKET}/etc/passwd",
        "s3://other-bucket/x.fastq",
        "/etc/passwd",
        "file:///etc/passwd",
        "https://example.com/x",
    ],
)
def test_unsafe_or_foreign_file_uris_are_refused(lab, uri):
    body = {"name": "x", "data_type": "file", "files": [{"uri": uri}]}
    response = lab.request("POST", "/datasets", json=body)
    assert response.status_code in (400, 422), response.text


def test_path_tricks_on_the_tenant_area_are_refused(lab):
    root = lab.store.root_uri
    for uri in (root + "../other/x", root + "a/../../x", root + "a//b", root + "a%00"):
        body = {"name": "x", "data_type": "file", "files": [{"uri": uri}]}
        assert lab.request("POST", "/datasets", json=body).status_code in (400, 422), uri


def test_every_change_makes_a_version_and_any_version_is_viewable(lab):
    ds = lab.pair("S1", tags=["raw"])
    path = f"/datasets/{ds['short_id']}"
    renamed = lab.ok("PATCH", path, json={"name": "S1 lane 1", "add_tags": ["qc"]})
    assert renamed["version"] == 2 and renamed["tags"] == ["raw", "qc"]
    reprop = lab.ok("PATCH", path, json={"properties": {"sample": "S1b"}, "remove_tags": ["raw"]})
    assert reprop["version"] == 3 and reprop["properties"]["sample"] == "S1b"
    assert reprop["properties"]["read1"].endswith("S1_R1.fastq.gz")  # merged, not replaced
    same = lab.ok("PATCH", path, json={"name": "S1 lane 1"})
    assert same["version"] == 3  # no change, no version
    history = lab.ok("GET", f"{path}/versions")
    assert [(v["version"], v["change"]) for v in history] == [
        (1, "created"),
        (2, "updated"),
        (3, "updated"),
    ]
    v1 = lab.ok("GET", f"{path}/versions/1")
    assert v1["name"] == "S1 reads" and v1["properties"]["sample"] == "S1" and v1["tags"] == ["raw"]
    assert lab.request("GET", f"{path}/versions/4").status_code == 404


def test_invalid_update_is_refused_and_changes_nothing(lab):
    ds = lab.pair("S1")
    path = f"/datasets/{ds['short_id']}"
    response = lab.request("PATCH", path, json={"properties": {"read2": None}})
    assert response.status_code == 422 and "property 'read2': required" in response.text
    response = lab.request("PATCH", path, json={"properties": {"lane": 1}})
    assert response.status_code == 422 and "property 'lane'" in response.text
    assert lab.ok("GET", path)["version"] == 1


def test_archive_and_restore_instead_of_delete(lab):
    ds = lab.pair("S1")
    path = f"/datasets/{ds['short_id']}"
    assert lab.ok("POST", f"{path}/archive")["archived"] is True
    assert lab.ok("GET", "/datasets")["items"] == []
    archived = lab.ok("GET", "/datasets", params={"archived": "only"})["items"]
    assert [d["short_id"] for d in archived] == [ds["short_id"]]
    assert lab.ok("POST", f"{path}/archive")["version"] == 2  # idempotent
    restored = lab.ok("POST", f"{path}/restore")
    assert restored["archived"] is False and restored["version"] == 3
    changes = [v["change"] for v in lab.ok("GET", f"{path}/versions")]
    assert changes == ["created", "archived", "restored"]
    assert lab.request("DELETE", path).status_code == 405


def test_if_match_guards_against_stale_edits(lab):
    ds = lab.pair("S1")
    path = f"/datasets/{ds['short_id']}"
    got = lab.request("GET", path)
    assert got.headers["ETag"] == '"1"'
    first = lab.api.patch(
        lab.base + path, json={"name": "a"}, headers={**lab.member.headers, "If-Match": '"1"'}
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = lab.api.patch(
        lab.base + path, json={"name": "b"}, headers={**lab.member.headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 409 and "changed since version 1" in stale.text
    body_version = lab.request("PATCH", path, json={"name": "c", "expected_version": 1})
    assert body_version.status_code == 409
    archive = lab.api.post(
        lab.base + path + "/archive", headers={**lab.member.headers, "If-Match": '"1"'}
    )
    assert archive.status_code == 409
    assert lab.ok("GET", path)["name"] == "a"


def test_viewers_read_but_do_not_write(factory, lab):
    ds = lab.pair("S1")
    viewer = factory.member("acme", "vic@example.com", "viewer")
    path = f"{lab.base}/datasets/{ds['short_id']}"
    assert lab.api.get(path, headers=viewer.headers).status_code == 200
    assert lab.api.patch(path, json={"name": "x"}, headers=viewer.headers).status_code == 403
    assert lab.api.post(path + "/archive", headers=viewer.headers).status_code == 403


def test_dataset_references_must_exist_in_the_tenant(factory, api, app, lab):
    lab.ok("POST", "/data-types", 201, json={
        "name": "derived", "properties": [{"name": "source", "type": "dataset"}],
    })  # fmt: skip
    ds = lab.pair("S1")
    made = lab.ok("POST", "/datasets", 201, json={
        "name": "d", "data_type": "derived", "properties": {"source": ds["id"]},
    })  # fmt: skip
    assert made["properties"]["source"] == "DS-000001"
    other = make_lab(factory, api, app, "beta-labs", "bob@example.com")
    other.ok("POST", "/data-types", 201, json={
        "name": "derived", "properties": [{"name": "source", "type": "dataset"}],
    })  # fmt: skip
    refused = other.request("POST", "/datasets", json={
        "name": "d", "data_type": "derived", "properties": {"source": ds["id"]},
    })  # fmt: skip
    assert refused.status_code == 422 and "property 'source'" in refused.text
