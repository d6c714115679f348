"""Changing a data type that datasets already use: safe changes make a new version, changes
that would break a dataset are refused naming it (API, SDK and `mantle types update`)."""

from __future__ import annotations

import json

import pytest

import mantle
from tests.catalog.test_sdk_cli import cli, sdk  # noqa: F401

RNASEQ = {
    "name": "rnaseq",
    "properties": [
        {"name": "sample", "type": "string", "required": True},
        {"name": "strand", "type": "string", "enum": ["forward", "reverse"]},
    ],
}


@pytest.fixture
def rnaseq(lab):
    lab.ok("POST", "/data-types", 201, json=RNASEQ)
    body = {"name": "S1", "data_type": "rnaseq", "properties": {"sample": "S1"}}
    lab.ok("POST", "/datasets", 201, json=body)
    properties = {"sample": "S2", "strand": "reverse"}
    body = {"name": "S2", "data_type": "rnaseq", "properties": properties}
    lab.ok("POST", "/datasets", 201, json=body)
    return lab


def _patch(lab, properties, **extra):
    return lab.request("PATCH", "/data-types/rnaseq", json={"properties": properties, **extra})


def test_changes_that_would_break_datasets_are_refused(rnaseq):
    sample, strand = RNASEQ["properties"]
    required_depth = _patch(
        rnaseq, [sample, strand, {"name": "depth", "type": "integer", "required": True}]
    )
    assert required_depth.status_code == 409
    message = required_depth.json()["error"]["message"]
    assert "2 dataset(s)" in message and "DS-000001" in message and "'depth': required" in message
    narrower = _patch(rnaseq, [sample, {**strand, "enum": ["forward"]}])
    assert narrower.status_code == 409 and "DS-000002" in narrower.json()["error"]["message"]
    strand_required = _patch(rnaseq, [sample, {**strand, "required": True}])
    assert strand_required.status_code == 409  # DS-000001 has no strand
    dropped = _patch(rnaseq, [sample])
    assert dropped.status_code == 409 and "not a property" in dropped.json()["error"]["message"]
    retyped = _patch(rnaseq, [{**sample, "type": "integer"}, strand])
    assert retyped.status_code == 409 and "cannot become integer" in retyped.text
    assert rnaseq.ok("GET", "/data-types/rnaseq")["version"] == 1, "nothing was written"


def test_safe_changes_make_a_new_version(rnaseq):
    sample, strand = RNASEQ["properties"]
    wider = {**strand, "enum": ["forward", "reverse", "unstranded"]}
    changed = rnaseq.ok(
        "PATCH",
        "/data-types/rnaseq",
        json={
            "description": "RNA-seq",
            "properties": [
                {**sample, "required": False},
                wider,
                {"name": "depth", "type": "float"},
            ],
        },
    )
    assert changed["version"] == 2 and changed["description"] == "RNA-seq"


def test_a_type_without_datasets_can_change_freely(lab):
    lab.ok("POST", "/data-types", 201, json=RNASEQ)
    changed = _patch(lab, [{"name": "sample", "type": "integer", "required": True}])
    assert changed.status_code == 200, changed.text


def test_sdk_edit_keeps_the_other_properties(sdk):  # noqa: F811
    sdk.data_types.create("bam", [{"name": "sample", "type": "string", "required": True}])
    sdk.datasets.create("S1", "bam", {"sample": "S1"})
    edited = sdk.data_types.edit(
        "bam",
        add=[{"name": "lane", "type": "integer"}],
        optional=["sample"],
        enums={"lane": [1, 2]},
        description="aligned reads",
    )
    assert [(p.name, p.required, p.enum) for p in edited.properties] == [
        ("sample", False, None),
        ("lane", False, [1, 2]),
    ]
    with pytest.raises(mantle.ConflictError, match="DS-000001"):
        sdk.data_types.edit("bam", require=["lane"])
    with pytest.raises(mantle.InvalidInputError, match="'nope' is not a property"):
        sdk.data_types.edit("bam", remove=["nope"])


def test_cli_types_update(cli, sdk):  # noqa: F811
    assert cli("types", "create", "bam", "--prop", "sample:string!").exit_code == 0
    sdk.datasets.create("S1", "bam", {"sample": "S1"})
    result = cli(
        "types", "update", "bam", "--add-prop", "lane:integer", "--enum", "lane=1|2",
        "--description", "aligned", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    updated = json.loads(result.stdout)
    assert updated["version"] == 2 and updated["description"] == "aligned"
    assert updated["properties"][1] == {
        "name": "lane", "type": "integer", "required": False, "description": "", "enum": [1, 2],
        "items": None,
    }  # fmt: skip
    with pytest.raises(mantle.ConflictError, match="DS-000001: property 'lane': required"):
        cli("types", "update", "bam", "--require", "lane")
