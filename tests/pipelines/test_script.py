"""Script pipeline specs (mantle.yml): parsing with named errors, the built-in spec, and the
input datasets a script pipeline takes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mantle.errors import InvalidInputError
from mantle.pipelines.samplesheet import make_samplesheet
from mantle.pipelines.script import builtin_specs, check_inputs, parse_spec
from mantle.rundir import script_argv
from tests.pipelines.conftest import fixture_json
from tests.pipelines.test_samplesheet import pair, plain_files


def test_the_builtin_spec_round_trips_through_run_json():
    spec, _ = builtin_specs()[0]
    dumped = spec.model_dump(mode="json")
    assert dumped["name"] == "fastq-stats"
    assert script_argv(dumped["command"], "/usr/bin/python3")[:2] == ["/usr/bin/python3", "-m"]
    assert parse_spec(__import__("yaml").safe_dump(dumped)) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ncommand: ls -l\n", "command"),
        ("name: x\ncommand: []\n", "command"),
        ("command: [ls]\n", "name"),
        ("name: x\ncommand: [ls]\noutputs: [{glob: '*.txt', data_type: table, pattern: '(a)\\1'}]",
         "outputs.0.pattern"),
        ("name: x\ncommand: [ls]\nparams: {type: object, properties: {n: {type: nope}}}", "params"),
        ("name: x\ncommand: [ls]\ninputs: [{name: r, data_types: [BAD]}]", "data type"),
        ("- just\n- a list\n", "mapping"),
        ("name: [unclosed\n", "YAML"),
        ("name: !!python/object/apply:os.system ['id']\ncommand: [ls]\n", "YAML"),
    ],
)  # fmt: skip
def test_bad_specs_are_refused_naming_the_field(text, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_spec(text)


def test_inputs_a_script_pipeline_takes():
    spec, _ = builtin_specs()[0]
    check_inputs(spec, [pair(1, "A"), pair(2, "B")])
    bam = SimpleNamespace(short_id="DS-000009", data_type="bam")
    with pytest.raises(InvalidInputError, match="DS-000009 is a 'bam'; fastq-stats takes"):
        check_inputs(spec, [bam])
    with pytest.raises(InvalidInputError, match="'reads' needs a dataset"):
        check_inputs(spec, [])
    one = parse_spec("name: one\ncommand: [ls]\ninputs: [{name: x, multiple: false}]")
    with pytest.raises(InvalidInputError, match="takes one dataset, got 2"):
        check_inputs(one.model_dump(), [pair(1, "A"), pair(2, "B")])


def test_make_samplesheet_for_a_launch():
    version = SimpleNamespace(
        params_schema=fixture_json("rnaseq_schema.json"),
        input_schema=fixture_json("rnaseq_schema_input.json"),
        samplesheet=None,
    )
    sheet = make_samplesheet(version, [pair(1, "A")])
    assert sheet.decode().splitlines()[0] == "sample,fastq_1,fastq_2,strandedness"
    with pytest.raises(InvalidInputError, match="column 'fastq_1'"):
        make_samplesheet(version, [plain_files(2, "odd", ["notes.txt"])])
    version.samplesheet = {"columns": {"sample": "name", "fastq_1": "file:*.txt"}}
    with pytest.raises(InvalidInputError, match="row 1, column 'fastq_1'"):
        make_samplesheet(version, [plain_files(2, "odd", ["notes.txt"])])
    with pytest.raises(InvalidInputError, match="at least one dataset"):
        make_samplesheet(version, [])
