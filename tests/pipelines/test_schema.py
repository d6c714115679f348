"""nextflow_schema.json in both dialects: the launch form, and params validated (422 naming
the param and the rule), with defaults applied and unknown params listed."""

from __future__ import annotations

import time

import pytest

from mantle.errors import InvalidInputError
from mantle.pipelines.schema import check_params, check_schema, normalize, validate_params
from tests.pipelines.conftest import fixture_json

DRAFT7 = fixture_json("rnaseq_schema.json")
NFSCHEMA2 = fixture_json("nfschema2_schema.json")


def test_draft07_groups_and_params_for_the_launch_form():
    form = normalize(DRAFT7)
    assert form["title"] == "example/rnaseq pipeline parameters"
    assert [g["name"] for g in form["groups"]] == [
        "input_output_options", "umi_options", "max_job_request_options",
    ]  # fmt: skip
    io_group = form["groups"][0]
    assert (io_group["title"], io_group["icon"]) == ("Input/output options", "fas fa-terminal")
    by_name = {p["name"]: p for g in form["groups"] for p in g["params"]}
    assert by_name["input"] | {} == {
        **by_name["input"],
        "type": "string",
        "format": "file-path",
        "mimetype": "text/csv",
        "schema": "assets/schema_input.json",
        "required": True,
        "hidden": False,
        "help_text": "A design file with 4 columns and a header row.",
    }
    assert by_name["outdir"]["format"] == "directory-path"
    assert by_name["max_cpus"]["hidden"] is True and by_name["max_cpus"]["default"] == 16
    assert by_name["umitools_grouping_method"]["enum"][-1] == "directional"
    assert by_name["with_umi"]["required"] is False


def test_2020_12_defs_read_the_same_way():
    form = normalize(NFSCHEMA2)
    assert [g["name"] for g in form["groups"]] == ["input_output_options", "generic_options"]
    params = {p["name"]: p for g in form["groups"] for p in g["params"]}
    assert params["input"]["schema"] == "assets/schema_input.json"
    assert params["publish_dir_mode"]["hidden"] is True


def test_a_plain_object_schema_is_one_group():
    form = normalize({"type": "object", "properties": {"n": {"type": "integer"}}})
    assert [(g["title"], [p["name"] for p in g["params"]]) for g in form["groups"]] == [
        ("Parameters", ["n"])
    ]


def test_defaults_are_applied_and_unknown_params_listed():
    checked = check_params(DRAFT7, {"input": "s.csv", "outdir": "/out", "extra_thing": 1})
    assert checked.params["max_cpus"] == 16
    assert checked.params["umitools_grouping_method"] == "directional"
    assert "umitools_bc_pattern2" not in checked.params  # a null default is no default
    assert checked.unknown == ["extra_thing"]
    assert validate_params(NFSCHEMA2, {"input": "s.csv", "outdir": "o"})["min_reads"] == 1000


@pytest.mark.parametrize(
    ("schema", "params", "param", "rule"),
    [
        (DRAFT7, {"input": "s.csv", "outdir": "o", "max_cpus": 1000}, "max_cpus", "maximum"),
        (DRAFT7, {"input": "s.csv", "outdir": "o", "max_cpus": "4"}, "max_cpus", "type"),
        (DRAFT7, {"input": "s.tsv", "outdir": "o"}, "input", "pattern"),
        (DRAFT7, {"outdir": "o"}, "input", "required"),
        (DRAFT7, {"input": "a.csv", "outdir": "o", "umitools_grouping_method": "x"},
         "umitools_grouping_method", "enum"),
        (NFSCHEMA2, {"input": "s.csv", "outdir": "o", "min_reads": -1}, "min_reads", "minimum"),
        (NFSCHEMA2, {"input": "s.csv", "outdir": "o", "publish_dir_mode": "nope"},
         "publish_dir_mode", "enum"),
    ],
)  # fmt: skip
def test_a_bad_param_is_named_with_the_rule_it_broke(schema, params, param, rule):
    with pytest.raises(InvalidInputError) as caught:
        validate_params(schema, params)
    assert {"param": param, "rule": rule} in [
        {k: d[k] for k in ("param", "rule")} for d in caught.value.details
    ]
    assert param in caught.value.message and rule in caught.value.message


def test_every_bad_param_is_reported():
    with pytest.raises(InvalidInputError) as caught:
        validate_params(DRAFT7, {"max_cpus": 0, "email": "nope"})
    assert {d["param"] for d in caught.value.details} == {"max_cpus", "email", "input", "outdir"}


def test_additional_properties_false_refuses_unknown_params():
    strict = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": False,
    }
    with pytest.raises(InvalidInputError, match="b: .b. is not a param"):
        validate_params(strict, {"a": 1, "b": 2})


def test_patterns_run_on_re2_so_a_hostile_one_cannot_hang_the_server():
    hostile = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^(a+)+$"}}}
    started = time.monotonic()
    with pytest.raises(InvalidInputError, match="x"):
        validate_params(hostile, {"x": "a" * 50_000 + "!"})
    assert time.monotonic() - started < 1
    with pytest.raises(InvalidInputError, match="pattern"):
        check_schema({"properties": {"x": {"type": "string", "pattern": "(a)\\1"}}})


def test_a_schema_that_is_not_json_schema_is_refused():
    with pytest.raises(InvalidInputError, match="not a valid JSON Schema"):
        check_schema({"type": "object", "properties": {"x": {"type": "strng"}}})
    with pytest.raises(InvalidInputError, match="points nowhere"):
        check_schema({"allOf": [{"$ref": "#/definitions/missing"}], "definitions": {}})
