"""The built-in fastq-stats program, run through the script protocol as the launcher runs it,
on real gzip and plain FASTQ files, with numbers computed by hand."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from mantle.pipelines.outputs import match_outputs
from mantle.pipelines.script import builtin_specs
from mantle.rundir import OutputFile, script_argv

# Two reads, 10 bases: qualities I=40 x4, !=0 x2, 5=20 x4 -> 240/10 = 24.0; G/C: 2 + 4 = 6.
PLAIN = "@r1 first\nACGT\n+\nIIII\n@r2\nGGCCNN\n+r2\n!!5555\n\n"
# Three reads of AAAA with quality # (2): 12 bases, mean 2.0, no GC.
GZIPPED = "@a\nAAAA\n+\n####\n" * 3


def run_program(tmp_path: Path, inputs: list[dict], params: dict | None = None):
    (tmp_path / "params.json").write_text(json.dumps(params or {}))
    (tmp_path / "inputs.json").write_text(json.dumps(inputs))
    outdir = tmp_path / "out"
    env = {
        **os.environ,
        "MANTLE_PARAMS_FILE": str(tmp_path / "params.json"),
        "MANTLE_INPUTS_FILE": str(tmp_path / "inputs.json"),
        "MANTLE_OUTDIR": str(outdir),
    }
    spec, _ = builtin_specs()[0]
    done = subprocess.run(
        script_argv(spec.command, sys.executable),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, outdir


def entry(short_id: str, sample: str | None, files: dict[str, Path]) -> dict:
    props = {"sample": sample} if sample else {}
    return {
        "dataset": {"id": "x", "short_id": short_id, "name": f"{short_id} name",
                    "data_type": "fastq_pair", "properties": props},
        "files": [{"name": name, "path": str(path)} for name, path in files.items()],
    }  # fmt: skip


def test_stats_of_plain_and_gzip_fastq(tmp_path):
    plain = tmp_path / "S1_R1.fastq"
    plain.write_text(PLAIN)
    zipped = tmp_path / "S1_R2.fastq.gz"
    zipped.write_bytes(gzip.compress(GZIPPED.encode()))
    disguised = tmp_path / "other.fq"  # gzip without the .gz name: told by its magic bytes
    disguised.write_bytes(gzip.compress(GZIPPED.encode()))
    inputs = [
        entry("DS-000001", "S1", {"S1_R2.fastq.gz": zipped, "S1_R1.fastq": plain}),
        entry("DS-000002", None, {"other.fq": disguised, "notes.txt": tmp_path / "missing"}),
    ]
    done, outdir = run_program(tmp_path, inputs, {"title": "QC <b>run</b>"})
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader((outdir / "fastq_stats.csv").open()))
    assert table == [
        {"dataset": "DS-000001", "sample": "S1", "file": "S1_R1.fastq", "reads": "2",
         "bases": "10", "mean_quality": "24.0000", "gc_fraction": "0.6000"},
        {"dataset": "DS-000001", "sample": "S1", "file": "S1_R2.fastq.gz", "reads": "3",
         "bases": "12", "mean_quality": "2.0000", "gc_fraction": "0.0000"},
        {"dataset": "DS-000002", "sample": "DS-000002 name", "file": "other.fq", "reads": "3",
         "bases": "12", "mean_quality": "2.0000", "gc_fraction": "0.0000"},
    ]  # fmt: skip
    report = (outdir / "fastq_stats.html").read_text()
    assert "QC &lt;b&gt;run&lt;/b&gt;" in report and "<b>run" not in report
    assert "3 files, 8 reads, 34 bases" in report
    published = [OutputFile(path=p.name, size=1, checksum="sha256:0") for p in outdir.iterdir()]
    spec, _ = builtin_specs()[0]
    assert [(g.data_type, g.name) for g in match_outputs(spec.outputs, published)] == [
        ("table", "fastq stats"),
        ("report", "fastq stats report"),
    ]


def test_max_reads_stops_early(tmp_path):
    plain = tmp_path / "a.fastq"
    plain.write_text(PLAIN)
    done, outdir = run_program(tmp_path, [entry("DS-1", "A", {"a.fastq": plain})], {"max_reads": 1})
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader((outdir / "fastq_stats.csv").open())
    assert (row["reads"], row["bases"], row["mean_quality"]) == ("1", "4", "40.0000")


def test_malformed_fastq_fails_naming_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.fastq"
    bad.write_text("@r1\nACGT\n+\nIIII\n@r2\nACGT\nIIII\n+\n")
    done, _ = run_program(tmp_path, [entry("DS-1", "A", {"bad.fastq": bad})])
    assert done.returncode == 1
    assert "bad.fastq, line 7: the third line of a record must start with '+'" in done.stderr
    short = tmp_path / "short.fastq"
    short.write_text("@r1\nACGT\n+\nIII\n")
    done, _ = run_program(tmp_path, [entry("DS-1", "A", {"short.fastq": short})])
    assert (
        done.returncode == 1 and "short.fastq, line 4: 3 quality values for 4 bases" in done.stderr
    )


def test_truncated_gzip_is_a_clear_error(tmp_path):
    cut = tmp_path / "cut.fastq.gz"
    cut.write_bytes(gzip.compress((GZIPPED * 50).encode())[:40])
    done, _ = run_program(tmp_path, [entry("DS-1", "A", {"cut.fastq.gz": cut})])
    assert done.returncode == 1 and "cut.fastq.gz" in done.stderr and "malformed" in done.stderr


def test_outside_mantle_it_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANTLE_")}
    done = subprocess.run(
        [sys.executable, "-m", "mantle.pipelines.builtin.fastq_stats"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "MANTLE_PARAMS_FILE" in done.stderr
