"""Output rules: published files matched to datasets (type, name, properties from the path,
grouping), deterministically; user patterns on RE2."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from mantle.pipelines.outputs import OutputRule, glob_pattern, match_outputs
from mantle.rundir import OutputFile


def files(*paths: str) -> list[OutputFile]:
    return [OutputFile(path=p, size=1, checksum="sha256:00") for p in paths]


RULES = [
    {"glob": "star/*.bam", "data_type": "bam", "pattern": r"star/(?P<sample>[^/]+)\.bam$"},
    {"glob": "multiqc/multiqc_report.html", "data_type": "report", "name": "MultiQC report"},
    {"glob": "salmon/**/quant.sf", "data_type": "table",
     "pattern": r"salmon/(?P<sample>[^/]+)/", "group_by": "{sample}",
     "name": "salmon {sample}", "properties": {"tool": "salmon", "label": "{sample}-q"}},
    {"glob": "**/*.html", "data_type": "report"},
]  # fmt: skip


def test_rules_make_datasets_with_properties_from_the_path():
    published = files(
        "star/WT.bam",
        "star/KO.bam",
        "star/sub/deep.bam",  # `*` stays within a folder
        "multiqc/multiqc_report.html",
        "salmon/WT/quant.sf",
        "salmon/WT/aux/quant.sf",
        "salmon/KO/quant.sf",
        "pipeline_info/timeline.html",
        "unmatched.txt",
    )
    groups = match_outputs(RULES, published)
    summary = [(g.data_type, g.name, g.properties, [f.path for f in g.files]) for g in groups]
    assert summary == [
        ("bam", "KO.bam", {"sample": "KO"}, ["star/KO.bam"]),
        ("bam", "WT.bam", {"sample": "WT"}, ["star/WT.bam"]),
        ("report", "MultiQC report", {}, ["multiqc/multiqc_report.html"]),
        ("table", "salmon KO", {"sample": "KO", "tool": "salmon", "label": "KO-q"},
         ["salmon/KO/quant.sf"]),
        ("table", "salmon WT", {"sample": "WT", "tool": "salmon", "label": "WT-q"},
         ["salmon/WT/aux/quant.sf", "salmon/WT/quant.sf"]),
        ("report", "timeline.html", {}, ["pipeline_info/timeline.html"]),
    ]  # fmt: skip
    # Same input in another order: same result (a retried ingest makes the same datasets).
    again = match_outputs(RULES, list(reversed(published)))
    assert [(g.name, [f.path for f in g.files]) for g in again] == [
        (g.name, [f.path for f in g.files]) for g in groups
    ]


def test_glob_forms():
    cases = {
        "*.csv": (["a.csv"], ["d/a.csv", "a.csv.gz"]),
        "**/*.csv": (["a.csv", "d/e/a.csv"], ["a.tsv"]),
        "d/?.txt": (["d/a.txt"], ["d/ab.txt", "d/a/b.txt"]),
        "d/[ab].txt": (["d/a.txt"], ["d/c.txt"]),
        "d/[!ab].txt": (["d/c.txt"], ["d/a.txt"]),
        "a+b (1).txt": (["a+b (1).txt"], ["aab (1).txt"]),
    }
    for glob, (yes, no) in cases.items():
        pattern = glob_pattern(glob)
        assert all(pattern.search(p) for p in yes), glob
        assert not any(pattern.search(p) for p in no), glob


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"glob": "*.bam", "data_type": "bam", "pattern": "(a)\\1"}, "RE2"),
        ({"glob": "*.bam", "data_type": "bam", "pattern": "(?=x)"}, "RE2"),
        ({"glob": "*.bam", "data_type": "bam", "pattern": "x{900}"}, "too complex"),
        ({"glob": "*.bam", "data_type": "bam", "name": "{sample}"}, "sample"),
        ({"glob": "*.bam", "data_type": "bam", "name": "{file!r}"}, "not allowed"),
        ({"glob": "../*.bam", "data_type": "bam"}, "relative"),
        ({"glob": "*.bam", "data_type": "Not A Type"}, "pattern"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rule, message):
    with pytest.raises(ValidationError, match=message):
        OutputRule.model_validate(rule)


def test_a_hostile_pattern_on_a_long_path_stays_fast():
    rule = {"glob": "**", "data_type": "file", "pattern": "^(a+)+$"}
    started = time.monotonic()
    groups = match_outputs([rule], files("a" * 1000 + "!", "aaa"))
    assert [g.name for g in groups] == ["aaa"]
    assert time.monotonic() - started < 1
