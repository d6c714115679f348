"""CLI tables for people: properties as k=v, files by their name in the dataset with human
sizes, no storage URIs (those are in --json, whose shape does not change)."""

from __future__ import annotations

import json

import pytest

from mantle.cli.output import cell, human_size
from tests.catalog.test_sdk_cli import cli, sdk  # noqa: F401


@pytest.fixture
def paired(lab, sdk):  # noqa: F811
    r1 = lab.stored_uri("up/S1_R1.fq.gz", b"x" * 2048)
    r2 = lab.stored_uri("up/S1_R2.fq.gz", b"y" * 3 * 1024 * 1024)
    files = [
        {"uri": r1, "name": "S1_R1.fq.gz", "size": 2048, "checksum": "crc32:AAAAAA=="},
        {"uri": r2, "name": "S1_R2.fq.gz", "size": 3 * 1024 * 1024},
    ]
    properties = {"sample": "S1", "read1": r1, "read2": r2}
    return sdk.datasets.create("S1", "fastq_pair", properties, files=files, tags=["a", "b"])


def test_cells_and_sizes():
    assert cell({"sample": "S1", "depth": 30}) == "sample=S1, depth=30"
    assert cell(["a", "b"]) == "a, b" and cell(None) == ""
    assert cell("2026-11-30T10:31:01.123456Z") == "2026-11-30 10:31:01"
    assert [human_size(n) for n in (0, 1023, 2048, 3 * 1024**3)] == [
        "0 B", "1023 B", "2.0 KiB", "3.0 GiB",
    ]  # fmt: skip


def test_datasets_show_and_list_are_readable(cli, paired):  # noqa: F811
    shown = cli("datasets", "show", paired.short_id).stdout
    for text in ("S1_R1.fq.gz", "S1_R2.fq.gz", "2.0 KiB", "3.0 MiB", "crc32:AAAAAA==", "a, b"):
        assert text in shown, shown
    assert "file://" not in shown and "{" not in shown
    listed = cli("datasets", "list", "--type", "fastq_pair").stdout
    assert "sample=S1" in listed and "file://" not in listed and "{" not in listed
    history = cli("datasets", "history", paired.short_id).stdout
    assert "file://" not in history and "{" not in history


def test_json_keeps_the_storage_uris(cli, paired):  # noqa: F811
    data = json.loads(cli("datasets", "show", paired.short_id, "--json").stdout)
    assert data["properties"]["read1"].startswith("file://")
    assert set(data["files"][0]) == {"uri", "name", "size", "etag", "checksum", "storage"}
    listed = json.loads(cli("datasets", "list", "--json").stdout)
    assert listed[0]["properties"]["read1"] == data["properties"]["read1"]


def test_types_show_is_a_table(cli):  # noqa: F811
    props = ("--prop", "sample:string!", "--prop", "lane:integer=1|2")
    created = cli("types", "create", "bam", *props)
    assert created.exit_code == 0, created.output
    shown = cli("types", "show", "bam").stdout
    assert "required" in shown and "1, 2" in shown and "[" not in shown
