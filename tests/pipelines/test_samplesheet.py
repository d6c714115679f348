"""Samplesheets: the param that takes one, the CSV built from datasets through a column
mapping (inferred from schema_input.json or given), and the check against that schema."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from mantle.errors import InvalidInputError
from mantle.pipelines.samplesheet import (
    build_samplesheet,
    check_samplesheet,
    default_columns,
    samplesheet_param,
)
from mantle.rundir import InputDataset, InputFile
from tests.pipelines.conftest import fixture_json

RNASEQ_INPUT = fixture_json("rnaseq_schema_input.json")
NFSCHEMA2_INPUT = fixture_json("nfschema2_schema_input.json")
BUCKET = "s3://lab/reads/"


def pair(n: int, sample: str) -> InputDataset:
    """A fastq_pair dataset as the catalog has it: file properties hold the files' URIs."""
    r1, r2 = f"{BUCKET}{sample}_R1_001.fastq.gz", f"{BUCKET}{sample}_R2_001.fastq.gz"
    return InputDataset(
        id=f"00000000-0000-0000-0000-{n:012d}",
        short_id=f"DS-{n:06d}",
        name=f"{sample} reads",
        data_type="fastq_pair",
        properties={"sample": sample, "read1": r1, "read2": r2},
        files=[
            InputFile(name=r2.rsplit("/", 1)[1], uri=r2),
            InputFile(name=r1.rsplit("/", 1)[1], uri=r1),
        ],
    )


def plain_files(n: int, name: str, files: list[str]) -> InputDataset:
    return InputDataset(
        id=f"00000000-0000-0000-0000-{n:012d}",
        short_id=f"DS-{n:06d}",
        name=name,
        data_type="file",
        files=[InputFile(name=f, uri=f"{BUCKET}{f}") for f in files],
    )


def rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_samplesheet_param_is_found_in_both_dialects():
    for name in ("rnaseq_schema.json", "nfschema2_schema.json"):
        version = SimpleNamespace(params_schema=fixture_json(name), samplesheet=None)
        assert samplesheet_param(version) == "input"
    configured = SimpleNamespace(params_schema={}, samplesheet={"param": "design"})
    assert samplesheet_param(configured) == "design"
    assert samplesheet_param(SimpleNamespace(params_schema={}, samplesheet=None)) is None


def test_default_mapping_for_rnaseq_from_fastq_pairs_then_check_passes():
    datasets = [pair(1, "WT_REP1"), pair(2, "KO_REP1")]
    columns = default_columns(RNASEQ_INPUT, datasets)
    assert columns == {
        "sample": "property:sample",
        "fastq_1": "property:read1",
        "fastq_2": "property:read2",
        "strandedness": "value:auto",
    }
    sheet = build_samplesheet(columns, datasets)
    assert rows(sheet) == [
        {"sample": "WT_REP1", "fastq_1": f"{BUCKET}WT_REP1_R1_001.fastq.gz",
         "fastq_2": f"{BUCKET}WT_REP1_R2_001.fastq.gz", "strandedness": "auto"},
        {"sample": "KO_REP1", "fastq_1": f"{BUCKET}KO_REP1_R1_001.fastq.gz",
         "fastq_2": f"{BUCKET}KO_REP1_R2_001.fastq.gz", "strandedness": "auto"},
    ]  # fmt: skip
    check_samplesheet(RNASEQ_INPUT, sheet)


def test_files_by_role_glob_and_name_and_fields():
    ds = plain_files(7, "lane 1", ["x_2.fq.gz", "x_1.fq.gz", "notes.txt"])
    sheet = build_samplesheet(
        {"id": "id", "name": "name", "r1": "file:R1", "r2": "file:R2", "txt": "file:*.txt",
         "exact": "file:notes.txt", "none": "file:*.bam", "kind": "data_type"},
        [ds],
    )  # fmt: skip
    assert rows(sheet) == [
        {"id": "DS-000007", "name": "lane 1", "r1": f"{BUCKET}x_1.fq.gz",
         "r2": f"{BUCKET}x_2.fq.gz", "txt": f"{BUCKET}notes.txt",
         "exact": f"{BUCKET}notes.txt", "none": "", "kind": "file"},
    ]  # fmt: skip
    assert default_columns(RNASEQ_INPUT, [ds])["fastq_1"] == "file:R1"
    assert default_columns(RNASEQ_INPUT, [ds])["sample"] == "name"


def test_cells_are_spreadsheet_safe():
    ds = pair(1, "=HYPERLINK(1)")
    sheet = build_samplesheet({"sample": "sample"}, [ds])
    assert rows(sheet) == [{"sample": "'=HYPERLINK(1)"}]


def test_a_bad_mapping_source_is_refused():
    with pytest.raises(InvalidInputError, match="property:NAME"):
        build_samplesheet({"x": "weird:thing"}, [pair(1, "A")])


def test_check_names_row_and_column_with_the_schemas_error_message():
    sheet = (
        b"sample,fastq_1,fastq_2,strandedness\n"
        b"WT 1,s3://b/a_1.fastq.gz,,forward\n"
        b"KO,s3://b/a_1.txt,,sideways\n"
        b"KO2,,,reverse\n"
    )
    with pytest.raises(InvalidInputError) as caught:
        check_samplesheet(RNASEQ_INPUT, sheet)
    found = {(d["row"], d["column"], d["rule"]) for d in caught.value.details}
    assert found == {
        (1, "sample", "pattern"),
        (2, "fastq_1", "pattern"),
        (2, "strandedness", "enum"),
        (3, "fastq_1", "required"),
    }
    assert "row 1, column 'sample': Sample name must be provided" in caught.value.message


def test_nf_schema_2_types_unique_entries_and_exists():
    sheet = (
        b"sample,fastq_1,fastq_2,replicate\n"
        b"A,s3://b/A_1.fastq.gz,s3://b/A_2.fastq.gz,1\n"
        b"A,s3://b/A_1.fastq.gz,,1\n"
        b"B,s3://b/B_1.fastq.gz,,zero\n"
    )
    with pytest.raises(InvalidInputError) as caught:
        check_samplesheet(NFSCHEMA2_INPUT, sheet, exists=lambda uri: "B_" not in uri)
    found = {(d["row"], d["column"], d["rule"]) for d in caught.value.details}
    assert found == {
        (2, "sample,replicate", "uniqueEntries"),
        (3, "replicate", "type"),
        (3, "fastq_1", "exists"),
    }
    check_samplesheet(NFSCHEMA2_INPUT, b"sample,fastq_1,replicate\nA,s3://b/A_1.fastq.gz,2\n")


def test_a_samplesheet_that_is_not_csv_text_is_refused():
    with pytest.raises(InvalidInputError, match="CSV"):
        check_samplesheet(RNASEQ_INPUT, b"\xff\xfe\x00bad")
