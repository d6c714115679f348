"""The built-in `fastq-stats` script pipeline's program: per FASTQ file (gzip or plain,
told apart by their first bytes) the number of reads and bases, the mean base quality
(Phred+33, over every base) and the GC fraction (G and C over every base, N included).

Runs under the script protocol (`mantle.pipelines.script`): reads MANTLE_PARAMS_FILE and
MANTLE_INPUTS_FILE, writes `fastq_stats.csv` and `fastq_stats.html` into MANTLE_OUTDIR.
Standard library only, one record in memory at a time. A malformed FASTQ stops it with a
message naming the file and the line, and exit code 1.

    python -m mantle.pipelines.builtin.fastq_stats
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

GZIP_MAGIC = b"\x1f\x8b"
FASTQ_SUFFIXES = (".fastq", ".fq", ".fastq.gz", ".fq.gz", ".fastq.bgz", ".fq.bgz")
CSV_NAME = "fastq_stats.csv"
HTML_NAME = "fastq_stats.html"
COLUMNS = ("dataset", "sample", "file", "reads", "bases", "mean_quality", "gc_fraction")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class MalformedFastq(Exception):
    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}, line {line}: {reason}")


@dataclass
class FileStats:
    dataset: str
    sample: str
    file: str
    reads: int = 0
    bases: int = 0
    quality_sum: int = 0
    gc: int = 0

    @property
    def mean_quality(self) -> float:
        return self.quality_sum / self.bases if self.bases else 0.0

    @property
    def gc_fraction(self) -> float:
        return self.gc / self.bases if self.bases else 0.0

    def row(self) -> list[str]:
        return [
            self.dataset, self.sample, self.file, str(self.reads), str(self.bases),
            f"{self.mean_quality:.4f}", f"{self.gc_fraction:.4f}",
        ]  # fmt: skip


def open_fastq(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def _lines(stream: IO[bytes], name: str) -> Iterator[bytes]:
    try:
        for line in stream:
            yield line.rstrip(b"\r\n")
    except (OSError, EOFError, zlib.error) as e:
        raise MalformedFastq(name, 0, f"cannot be read ({e})") from e


def measure(path: Path, stats: FileStats, *, max_reads: int = 0) -> FileStats:
    """`stats` filled from the FASTQ at `path` (4-line records: @id, bases, +, qualities)."""
    with open_fastq(path) as stream:
        lines = _lines(stream, stats.file)
        number = 0
        for header in lines:
            number += 1
            if not header:
                continue  # a blank line between records or at the end
            record = [header, next(lines, None), next(lines, None), next(lines, None)]
            if record[3] is None:
                raise MalformedFastq(stats.file, number, "truncated record (needs 4 lines)")
            _check(stats.file, number, record)
            seq, qual = record[1], record[3]
            stats.reads += 1
            stats.bases += len(seq)
            stats.quality_sum += sum(qual) - 33 * len(qual)
            stats.gc += seq.count(b"G") + seq.count(b"C") + seq.count(b"g") + seq.count(b"c")
            number += 3
            if max_reads and stats.reads >= max_reads:
                break
    return stats


def _check(file: str, number: int, record: list[bytes]) -> None:
    header, seq, plus, qual = record
    if not header.startswith(b"@"):
        raise MalformedFastq(file, number, "a record must start with '@'")
    if not plus.startswith(b"+"):
        raise MalformedFastq(file, number + 2, "the third line of a record must start with '+'")
    if len(seq) != len(qual):
        raise MalformedFastq(file, number + 3, f"{len(qual)} quality values for {len(seq)} bases")
    if qual and (min(qual) < 33 or max(qual) > 126):
        raise MalformedFastq(file, number + 3, "quality characters outside Phred+33 ('!'..'~')")


def is_fastq(name: str) -> bool:
    return name.lower().endswith(FASTQ_SUFFIXES)


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(path: Path, rows: list[FileStats]) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for stats in rows:
            writer.writerow([_safe(v.replace("\r", " ")) for v in stats.row()])


def write_html(path: Path, rows: list[FileStats], title: str) -> None:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in stats.row()) + "</tr>\n"
        for stats in rows
    )
    total_reads = sum(s.reads for s in rows)
    total_bases = sum(s.bases for s in rows)
    path.write_text(
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p>{len(rows)} files, {total_reads} reads, {total_bases} bases.</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n"
        "</body></html>\n",
        encoding="utf-8",
    )


def _chosen_files(entry: dict[str, Any]) -> list[dict[str, str]]:
    files = entry.get("files") or []
    fastqs = [f for f in files if is_fastq(f.get("name", ""))]
    return sorted(fastqs or files, key=lambda f: f.get("name", ""))


def run(params: dict[str, Any], inputs: list[dict[str, Any]], outdir: Path) -> list[FileStats]:
    max_reads = int(params.get("max_reads") or 0)
    rows = []
    for entry in inputs:
        dataset = entry.get("dataset") or {}
        sample = str((dataset.get("properties") or {}).get("sample") or dataset.get("name", ""))
        for f in _chosen_files(entry):
            stats = FileStats(str(dataset.get("short_id", "")), sample, f["name"])
            rows.append(measure(Path(f["path"]), stats, max_reads=max_reads))
    outdir.mkdir(parents=True, exist_ok=True)
    write_csv(outdir / CSV_NAME, rows)
    write_html(outdir / HTML_NAME, rows, str(params.get("title") or "FASTQ statistics"))
    return rows


def main() -> int:
    try:
        params = json.loads(Path(os.environ["MANTLE_PARAMS_FILE"]).read_text())
        inputs = json.loads(Path(os.environ["MANTLE_INPUTS_FILE"]).read_text())
        outdir = Path(os.environ["MANTLE_OUTDIR"])
    except KeyError as e:
        print(f"fastq-stats: {e.args[0]} is not set (run it through Mantle)", file=sys.stderr)
        return 2
    try:
        rows = run(params, inputs, outdir)
    except MalformedFastq as e:
        print(f"fastq-stats: malformed FASTQ: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"fastq-stats: {e}", file=sys.stderr)
        return 1
    print(f"fastq-stats: {len(rows)} files measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
