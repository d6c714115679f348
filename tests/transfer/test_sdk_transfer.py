"""Uploads and downloads as users run them: the SDK and `mantle upload`/`mantle download`
against a live server, including resuming an interrupted upload."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest

from mantle import Client
from mantle.client._transfer import PartUploader
from mantle.errors import MantleError
from tests.live import MANTLE

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def token(live_server):
    return Client.login(
        live_server.url,
        live_server.admin_email,
        live_server.admin_password,
        token_name="transfer tests",
        tenant=live_server.tenant,  # other tests make the admin a member of more tenants
    ).token


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "run42"
    (root / "lane1").mkdir(parents=True)
    (root / "lane1" / "big.bin").write_bytes(os.urandom(19 * MiB))
    (root / "notes.txt").write_text("sequenced on 2026-11-20\n")
    (root / "empty.txt").write_bytes(b"")
    return root


def test_sdk_upload_then_download_round_trip(live_server, token, folder, tmp_path):
    sent = []
    with Client(live_server.url, token) as client:
        dataset = client.uploads.upload(
            [folder], data_type="directory", tags=["run42"], progress=sent.append, parallel=4
        )
        assert dataset.name == "run42" and dataset.tags == ["run42"]
        assert sorted(f.name for f in dataset.files) == [
            "run42/empty.txt",
            "run42/lane1/big.bin",
            "run42/notes.txt",
        ]
        assert sum(sent) == 19 * MiB + len("sequenced on 2026-11-20\n")
        paths = dataset.download(tmp_path / "out", parallel=4)
    assert len(paths) == 3
    for name in ("lane1/big.bin", "notes.txt", "empty.txt"):
        assert (tmp_path / "out" / "run42" / name).read_bytes() == (folder / name).read_bytes()


def test_interrupted_upload_resumes_with_the_missing_parts(live_server, token, folder, tmp_path):
    resume_dir = tmp_path / "resume"

    class Crash(Exception):
        pass

    sent: list[int] = []

    def crash_after_first_part(n: int) -> None:
        sent.append(n)
        if len(sent) == 1:
            raise Crash()

    with Client(live_server.url, token) as client:
        with pytest.raises(Crash):
            client.uploads.upload(
                [folder / "lane1"],
                data_type="directory",
                parallel=1,
                progress=crash_after_first_part,
                resume_dir=resume_dir,
            )
        assert list(resume_dir.iterdir()), "the upload id is remembered"
        resumed: list[int] = []
        dataset = client.uploads.upload(
            [folder / "lane1"],
            data_type="directory",
            parallel=2,
            progress=resumed.append,
            resume_dir=resume_dir,
        )
    # Only the parts storage did not have yet were sent again (a restart would send 19 MiB).
    assert 0 < sum(resumed) <= 19 * MiB - sent[0]
    assert dataset.files[0].size == 19 * MiB
    assert not list(resume_dir.iterdir())


def test_a_file_changed_during_upload_is_refused(live_server, token, tmp_path, monkeypatch):
    """Each part's URL is signed with the CRC32 read before sending; if the file changes in
    between, storage refuses the part and the upload stops with a clear error, no dataset."""
    path = tmp_path / "changing.bin"
    path.write_bytes(os.urandom(9 * MiB))
    original = PartUploader.checksum
    calls = []

    def checksum_then_change(local, offset, length):
        crc = original(local, offset, length)
        if not calls:
            path.write_bytes(os.urandom(9 * MiB))  # someone rewrites the file mid-upload
        calls.append(offset)
        return crc

    monkeypatch.setattr(PartUploader, "checksum", staticmethod(checksum_then_change))
    with Client(live_server.url, token) as client:
        before = client.datasets.query(type="file").count()
        with pytest.raises(MantleError, match="changed while it was uploading"):
            client.uploads.upload([path], data_type="file", parallel=2)
        assert client.datasets.query(type="file").count() == before


def test_a_retried_single_put_that_was_stored_counts_as_stored(
    live_server, token, tmp_path, monkeypatch
):
    """The first try of a small file's PUT is stored but its answer is lost; the retry gets
    412 (single PUTs are create-only), which the SDK takes as stored: completion checks the
    stored size and CRC32 anyway."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"stored on the first try\n")
    real_put = httpx.Client.put
    refused = []

    def put_then_lose_the_answer(self, url, **kwargs):
        response = real_put(self, url, **kwargs)
        if not refused and response.status_code == 200:
            refused.append(url)
            raise httpx.ReadTimeout("the answer was lost")
        refused.append(response.status_code)
        return response

    monkeypatch.setattr(httpx.Client, "put", put_then_lose_the_answer)
    sent: list[int] = []
    with Client(live_server.url, token) as client:
        dataset = client.uploads.upload([path], data_type="file", progress=sent.append)
    assert refused[1:] == [412] and sum(sent) == path.stat().st_size
    assert dataset.files[0].size == path.stat().st_size


def run(live_server, token, tmp_path, *args):
    env = {
        **os.environ,
        "MANTLE_URL": live_server.url,
        "MANTLE_TOKEN": token,
        "MANTLE_CONFIG_DIR": str(tmp_path / "cfg"),
        "NO_COLOR": "1",
    }
    return subprocess.run([MANTLE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_upload_and_download(live_server, token, folder, tmp_path):
    up = run(
        live_server,
        token,
        tmp_path,
        "upload",
        str(folder / "notes.txt"),
        str(folder / "lane1"),
        "--type",
        "directory",
        "--name",
        "mixed",
        "--prop",
        "operator=ann",
        "--tag",
        "cli",
        "--json",
    )
    assert up.returncode == 0, up.stderr
    dataset = json.loads(up.stdout)
    assert dataset["properties"] == {"operator": "ann"}
    assert sorted(f["name"] for f in dataset["files"]) == ["lane1/big.bin", "notes.txt"]

    down = run(
        live_server, token, tmp_path, "download", dataset["short_id"], "--to", str(tmp_path / "got")
    )
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "got" / "lane1" / "big.bin").read_bytes() == (
        folder / "lane1" / "big.bin"
    ).read_bytes()

    missing = run(live_server, token, tmp_path, "upload", str(tmp_path / "nope"), "--type", "file")
    assert missing.returncode == 7 and "no such file" in missing.stderr
