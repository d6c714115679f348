"""Data types through the API: built-ins seeded per tenant, create, versions, conflicts."""

from __future__ import annotations


def test_builtin_types_are_there_for_every_tenant(lab):
    names = {t["name"]: t for t in lab.ok("GET", "/data-types")}
    assert {"file", "directory", "fastq", "fastq_pair"} <= set(names)
    pair = lab.ok("GET", "/data-types/fastq_pair")
    assert [(p["name"], p["type"], p["required"]) for p in pair["properties"]] == [
        ("sample", "string", True),
        ("read1", "file", True),
        ("read2", "file", True),
    ]
    assert pair["builtin"] and pair["version"] == 1


def test_create_update_and_read_any_version(lab):
    body = {
        "name": "rnaseq",
        "description": "RNA-seq sample",
        "properties": [
            {"name": "sample", "type": "string", "required": True},
            {"name": "strand", "type": "string", "enum": ["forward", "reverse"]},
        ],
    }
    created = lab.ok("POST", "/data-types", 201, json=body)
    assert created["version"] == 1 and created["created_by"] == "alice@example.com"
    changed = lab.ok(
        "PATCH",
        "/data-types/rnaseq",
        json={"properties": [*body["properties"], {"name": "depth", "type": "integer"}]},
    )
    assert changed["version"] == 2 and len(changed["properties"]) == 3
    versions = lab.ok("GET", "/data-types/rnaseq/versions")
    assert [len(v["properties"]) for v in versions] == [2, 3]
    assert len(lab.ok("GET", "/data-types/rnaseq/versions/1")["properties"]) == 2
    assert lab.request("GET", "/data-types/rnaseq/versions/9").status_code == 404


def test_type_conflicts_and_refusals(lab):
    assert lab.request("POST", "/data-types", json={"name": "fastq"}).status_code == 409
    lab.ok("POST", "/data-types", 201, json={"name": "mine"})
    assert lab.request("POST", "/data-types", json={"name": "mine"}).status_code == 409
    stale = lab.request(
        "PATCH", "/data-types/mine", json={"description": "x", "expected_version": 7}
    )
    assert stale.status_code == 409
    builtin = lab.request("PATCH", "/data-types/fastq", json={"description": "x"})
    assert builtin.status_code == 422 and "built-in" in builtin.json()["error"]["message"]
    bad = lab.request("POST", "/data-types", json={"name": "Bad-Name", "properties": []})
    assert bad.status_code == 422
    assert lab.request("GET", "/data-types/nope").status_code == 404


def test_readers_cannot_create_types(factory, lab):
    viewer = factory.member("acme", "vic@example.com", "viewer")
    response = lab.api.post(f"{lab.base}/data-types", json={"name": "x"}, headers=viewer.headers)
    assert response.status_code == 403
    assert lab.api.get(f"{lab.base}/data-types", headers=viewer.headers).status_code == 200
