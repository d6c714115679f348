"""Reads files matched to a type's file properties: `mantle upload S1_R1.fastq.gz
S1_R2.fastq.gz --type fastq_pair` with no --prop, many pairs at once, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mantle.catalog.types import BUILTIN_TYPES
from mantle.client._pairing import plan_samples
from mantle.errors import InvalidInputError
from mantle.schemas.catalog import DataTypePublic, PropertyDef


def _type(name: str, properties: list[PropertyDef]) -> DataTypePublic:
    now = datetime.now(UTC)
    return DataTypePublic(
        id="00000000-0000-0000-0000-000000000000", name=name, description="", version=1,
        properties=properties, additional_properties=False, builtin=False, created_at=now,
        created_by="", updated_at=now,
    )  # fmt: skip


BUILTIN = {t.name: _type(t.name, t.properties) for t in BUILTIN_TYPES}


def _files(tmp_path: Path, *names: str) -> list[Path]:
    for name in names:
        (tmp_path / name).write_bytes(b"@r\nACGT\n+\nIIII\n")
    return [tmp_path / n for n in names]


@pytest.mark.parametrize(
    ("r1", "r2", "sample"),
    [
        ("S1_R1_001.fastq.gz", "S1_R2_001.fastq.gz", "S1"),
        ("S1_L001_R1_001.fastq.gz", "S1_L001_R2_001.fastq.gz", "S1_L001"),
        ("liver-3_R1.fq.gz", "liver-3_R2.fq.gz", "liver-3"),
        ("SRR123_1.fastq.gz", "SRR123_2.fastq.gz", "SRR123"),
        ("tumor.R1.fastq", "tumor.R2.fastq", "tumor"),
    ],
)
def test_a_pair_fills_read1_read2_and_sample(tmp_path, r1, r2, sample):
    paths = _files(tmp_path, r2, r1)  # any order
    [planned] = plan_samples(paths, BUILTIN["fastq_pair"], {})
    assert planned.name == sample
    assert planned.properties == {"read1": r1, "read2": r2, "sample": sample}
    assert [p.name for p in planned.paths] == [r1, r2]


def test_many_files_make_one_dataset_per_pair(tmp_path):
    paths = _files(
        tmp_path, "A_R1_001.fastq.gz", "B_R2_001.fastq.gz", "A_R2_001.fastq.gz",
        "B_R1_001.fastq.gz",
    )  # fmt: skip
    planned = plan_samples(paths, BUILTIN["fastq_pair"], {"sample": "given"})
    assert [(s.name, s.properties) for s in planned] == [
        ("A", {"read1": "A_R1_001.fastq.gz", "read2": "A_R2_001.fastq.gz"}),
        ("B", {"read1": "B_R1_001.fastq.gz", "read2": "B_R2_001.fastq.gz"}),
    ]


def test_single_read_types_get_one_dataset_per_file(tmp_path):
    paths = _files(tmp_path, "S1.fastq.gz", "S2_R1.fq")
    planned = plan_samples(paths, BUILTIN["fastq"], {})
    assert [s.properties for s in planned] == [
        {"reads": "S1.fastq.gz", "sample": "S1"},
        {"reads": "S2_R1.fq", "sample": "S2"},
    ]


def test_explicit_props_and_types_without_file_properties_are_left_alone(tmp_path):
    paths = _files(tmp_path, "S1_R1.fq", "S1_R2.fq")
    assert plan_samples(paths, BUILTIN["fastq_pair"], {"read1": "S1_R1.fq"}) is None
    assert plan_samples(paths, BUILTIN["file"], {}) is None
    assert plan_samples([tmp_path], BUILTIN["fastq_pair"], {}) is None


def test_errors_say_which_prop_to_pass(tmp_path):
    pair = BUILTIN["fastq_pair"]
    with pytest.raises(InvalidInputError, match="S2_R1.fq: no matching read 2"):
        plan_samples(_files(tmp_path, "S1_R1.fq", "S1_R2.fq", "S2_R1.fq"), pair, {})
    with pytest.raises(InvalidInputError, match=r"reads\.fq: not named like read 1.*--prop read1="):
        plan_samples(_files(tmp_path, "reads.fq", "S1_R2.fq"), pair, {})
    odd = _type(
        "tn_pair",
        [PropertyDef(name="tumor", type="file", required=True),
         PropertyDef(name="normal", type="file", required=True)],
    )  # fmt: skip
    with pytest.raises(
        InvalidInputError,
        match=r"'tumor' and 'normal'.*--prop tumor=S1_R1\.fq --prop normal=S1_R2\.fq",
    ):
        plan_samples(_files(tmp_path, "S1_R1.fq", "S1_R2.fq"), odd, {})
