"""Sequencing files matched to a data type's file properties, so that
`mantle upload S1_R1.fastq.gz S1_R2.fastq.gz --type fastq_pair` needs no `--prop`.

Reads are told apart by the usual Illumina and SRA names: `S1_L001_R1_001.fastq.gz`,
`S1_R1.fq.gz`, `S1_1.fastq.gz` (R1/R2 or 1/2 before the extension). Files with the same
name apart from that form one sample; the sample name is that common part. A type with one
file property (`fastq`: `reads`) gets one dataset per file; one with two gets one per pair,
if its properties say which is read 1 (`read1`, `r1`, `fastq_1`, `forward`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mantle.errors import InvalidInputError
from mantle.schemas.catalog import DataTypePublic, PropertyType

_READ = re.compile(
    r"^(?P<sample>.+?)[._](?:R(?P<r>[12])(?P<chunk>_\d{3})?|(?P<n>[12]))"
    r"(?P<ext>\.(?:fastq|fq)(?:\.gz|\.bz2|\.zst)?)$",
    re.IGNORECASE,
)
_FIRST = re.compile(r"^(read_?1|r1|fastq_?1|fq_?1|forward|fwd|reads?_?forward|left)$", re.I)
_SECOND = re.compile(r"^(read_?2|r2|fastq_?2|fq_?2|reverse|rev|reads?_?reverse|right)$", re.I)


@dataclass
class Sample:
    """One dataset to upload: its files and the properties that name them."""

    name: str
    paths: list[Path]
    properties: dict[str, str] = field(default_factory=dict)


def read_of(path: Path) -> tuple[str, int] | None:
    """(sample key, 1 or 2) for a paired-read file name, None for any other name."""
    match = _READ.match(path.name)
    if match is None:
        return None
    read = int(match.group("r") or match.group("n"))
    chunk = match.group("chunk") or ""
    return f"{match.group('sample')}{chunk}{match.group('ext').lower()}", read


def sample_name(path: Path) -> str:
    match = _READ.match(path.name)
    if match is not None:
        return match.group("sample")
    return re.sub(r"\.(fastq|fq)(\.gz|\.bz2|\.zst)?$", "", path.name, flags=re.I)


def file_properties(data_type: DataTypePublic) -> list[str]:
    return [p.name for p in data_type.properties if p.type is PropertyType.file]


def plan_samples(paths: list[Path], data_type: DataTypePublic, given: dict) -> list[Sample] | None:
    """The datasets to make from `paths`, one per file or pair, or None when the type has
    no file property left for us to fill (the caller uploads everything as one dataset)."""
    props = [p for p in file_properties(data_type) if p not in given]
    if not props or len(props) != len(file_properties(data_type)) or len(props) > 2:
        return None
    if any(not p.is_file() for p in paths):
        return None
    samples = _singles(paths, props[0]) if len(props) == 1 else _pairs(paths, props, data_type)
    fills_sample = any(p.name == "sample" for p in data_type.properties) and "sample" not in given
    for sample in samples:
        if fills_sample:
            sample.properties["sample"] = sample.name
    return samples


def _singles(paths: list[Path], prop: str) -> list[Sample]:
    return [Sample(sample_name(p), [p], {prop: p.name}) for p in paths]


def _pairs(paths: list[Path], props: list[str], data_type: DataTypePublic) -> list[Sample]:
    first, second = _which_is_first(props, paths, data_type)
    groups: dict[str, dict[int, Path]] = {}
    for path in paths:
        found = read_of(path)
        if found is None:
            raise InvalidInputError(
                f"{path.name}: not named like read 1 or read 2 (S1_R1_001.fastq.gz, "
                f"S1_R1.fq.gz, S1_1.fastq.gz); name the files with "
                f"--prop {first}=<R1 file> --prop {second}=<R2 file>"
            )
        key, read = found
        if read in groups.setdefault(key, {}):
            raise InvalidInputError(f"{groups[key][read].name} and {path.name}: both read {read}")
        groups[key][read] = path
    samples = []
    for reads in groups.values():
        if len(reads) != 2:
            lonely = next(iter(reads.values()))
            raise InvalidInputError(f"{lonely.name}: no matching read {3 - next(iter(reads))}")
        r1, r2 = reads[1], reads[2]
        samples.append(Sample(sample_name(r1), [r1, r2], {first: r1.name, second: r2.name}))
    return sorted(samples, key=lambda s: s.name)


def _which_is_first(props: list[str], paths: list[Path], data_type: DataTypePublic):
    a, b = props
    if _FIRST.match(a) and _SECOND.match(b):
        return a, b
    if _FIRST.match(b) and _SECOND.match(a):
        return b, a
    names = sorted(p.name for p in paths)[:2] + ["<R1 file>", "<R2 file>"]
    raise InvalidInputError(
        f"data type '{data_type.name}' has file properties '{a}' and '{b}', and it is not "
        f"clear which one is read 1: say which file goes where, e.g. "
        f"--prop {a}={names[0]} --prop {b}={names[1] if len(paths) > 1 else names[3]}"
    )
