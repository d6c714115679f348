"""Uploading the same content twice: skipped by default (the same file names, sizes and
CRC32s already make a dataset of the type), uploaded again with --duplicate / duplicate=True;
and paired reads uploaded with no --prop."""

from __future__ import annotations

import json
import os

from mantle import Client
from tests.transfer.test_sdk_transfer import run, token  # noqa: F401


def _count(client, data_type: str) -> int:
    return client.datasets.query(type=data_type).count()


def test_sdk_returns_the_dataset_that_already_holds_the_files(live_server, token, tmp_path):  # noqa: F811
    path = tmp_path / "plate.csv"
    path.write_bytes(os.urandom(1000))
    with Client(live_server.url, token) as client:
        first = client.uploads.upload([path], data_type="file")
        assert client.uploads.find_uploaded([path], data_type="file").id == first.id
        again = client.uploads.upload([path], data_type="file")
        assert again.short_id == first.short_id
        assert client.uploads.find_uploaded([path], data_type="directory") is None
        path.write_bytes(path.read_bytes()[:-1] + b"!")  # same name and size, other bytes
        changed = client.uploads.upload([path], data_type="file")
        assert changed.short_id != first.short_id
        forced = client.uploads.upload([path], data_type="file", duplicate=True)
        assert forced.short_id != changed.short_id


def test_cli_uploads_a_pair_without_props_once(live_server, token, tmp_path):  # noqa: F811
    reads = tmp_path / "reads"
    reads.mkdir()
    for sample in ("P1", "P2"):
        for read in ("R1", "R2"):
            (reads / f"{sample}_{read}_001.fastq.gz").write_bytes(os.urandom(300))
    paths = sorted(str(p) for p in reads.iterdir())

    up = run(live_server, token, tmp_path, "upload", *paths, "--type", "fastq_pair", "--json")
    assert up.returncode == 0, up.stderr
    made = json.loads(up.stdout)
    assert [d["name"] for d in made] == ["P1", "P2"]
    first = made[0]
    assert first["properties"]["sample"] == "P1"
    by_uri = {f["uri"]: f["name"] for f in first["files"]}
    assert by_uri[first["properties"]["read1"]] == "P1_R1_001.fastq.gz"
    assert by_uri[first["properties"]["read2"]] == "P1_R2_001.fastq.gz"

    again = run(live_server, token, tmp_path, "upload", *paths[:2], "--type", "fastq_pair")
    assert again.returncode == 0, again.stderr
    assert f"already uploaded as {first['short_id']}; use --duplicate" in again.stderr
    assert "created" not in again.stdout

    forced = run(
        live_server, token, tmp_path, "upload", *paths[:2], "--type", "fastq_pair",
        "--duplicate", "--json",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["short_id"] != first["short_id"]
