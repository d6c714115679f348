"""Every dataset file shows a checksum where one is known: uploads their whole-file CRC32
(composed from the part CRC32s storage checked), imports the object's ETag from the listing."""

from __future__ import annotations

import base64
import os
import uuid
import zlib
from datetime import UTC, datetime

import pytest

from mantle.catalog.uploads import finish_files
from mantle.checksums import combined_crc32, crc32_b64
from mantle.db.models import SqlUpload, SqlUploadFile
from mantle.schemas.uploads import UploadComplete
from mantle.storage import ObjectInfo, PartInfo
from tests.transfer.test_imports import bucket, owner, run_import, spec, worker  # noqa: F401
from tests.transfer.test_uploads import put_parts, start

MiB = 1024 * 1024


def _crc32(data: bytes) -> str:
    return "crc32:" + crc32_b64(data)


@pytest.mark.parametrize("part_size", [1, 7, 1000, 8 * MiB])
def test_combined_crc32_equals_the_crc32_of_the_whole(part_size):
    data = os.urandom(20_000)
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    assert combined_crc32([(crc32_b64(p), len(p)) for p in parts]) == crc32_b64(data)
    assert combined_crc32([(crc32_b64(b""), 0)]) == crc32_b64(b"")
    assert int.from_bytes(base64.b64decode(crc32_b64(data))) == zlib.crc32(data)


def test_uploaded_files_carry_their_crc32(api, owner):  # noqa: F811
    contents = {"a.txt": b"hello", "big.bin": os.urandom(17 * MiB), "empty": b""}
    upload = start(api, owner, [{"name": n, "size": len(d)} for n, d in contents.items()]).json()
    put_parts(api, owner, upload, contents)
    size = upload["part_size"]
    crc32 = {
        f["id"]: {
            n: crc32_b64(contents[f["name"]][(n - 1) * size : n * size])
            for n in range(1, f["part_count"] + 1)
        }
        for f in upload["files"]
    }
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete",
        json={"crc32": crc32},
        headers=owner.headers,
    )
    assert done.status_code == 201, done.text
    files = {f["name"]: f["checksum"] for f in done.json()["files"]}
    assert files == {name: _crc32(data) for name, data in contents.items()}
    shown = api.get(
        f"/api/v1/tenants/acme/datasets/{done.json()['short_id']}", headers=owner.headers
    ).json()
    assert {f["name"]: f["checksum"] for f in shown["files"]} == files


def test_part_crc32s_storage_reports_are_used_when_the_client_sent_none():
    """S3 reports each part's CRC32 in ListParts (moto does not, so this is a unit test):
    a resumed upload's earlier parts need no CRC32 from the client."""
    data = os.urandom(9 * MiB)
    halves = [data[: 8 * MiB], data[8 * MiB :]]
    file = SqlUploadFile(
        id=uuid.uuid4(), name="big.bin", part_count=2, size=len(data), key="k",
        multipart_id="m", checksum="crc32",
    )  # fmt: skip
    upload = SqlUpload(part_size=8 * MiB, files=[file])
    stored = {
        file.id: [PartInfo(n + 1, len(h), f"e{n}", crc32_b64(h)) for n, h in enumerate(halves)]
    }

    class Store:
        def complete_multipart(self, key, upload_id, parts, crc32):
            assert crc32 == {1: crc32_b64(halves[0]), 2: crc32_b64(halves[1])}
            return ObjectInfo(key, len(data), "etag-2", datetime.now(UTC))

    whole = finish_files(upload, Store(), UploadComplete(), stored)
    assert whole == {file.id: crc32_b64(data)}


def test_imported_files_carry_their_etag(api, owner, bucket, worker):  # noqa: F811
    assert run_import(api, owner, worker, spec(bucket))["status"] == "succeeded"
    page = api.get("/api/v1/tenants/acme/datasets?type=fastq_pair", headers=owner.headers).json()
    for file in page["items"][0]["files"]:
        assert file["checksum"] == f"etag:{file['etag']}" and len(file["etag"]) == 32


def test_sdk_upload_records_crc32_even_after_a_resume(tmp_path, live_server):
    from mantle import Client

    path = tmp_path / "reads.bin"
    path.write_bytes(os.urandom(9 * MiB))
    token = Client.login(
        live_server.url,
        live_server.admin_email,
        live_server.admin_password,
        tenant=live_server.tenant,
    ).token

    class Crash(Exception):
        pass

    def crash(_n):
        raise Crash()

    with Client(live_server.url, token) as client:
        with pytest.raises(Crash):
            client.uploads.upload([path], data_type="file", parallel=1, progress=crash,
                                  resume_dir=tmp_path / "resume")  # fmt: skip
        dataset = client.uploads.upload(
            [path], data_type="file", resume_dir=tmp_path / "resume", duplicate=True
        )
        assert dataset.files[0].checksum == _crc32(path.read_bytes())
        assert client.datasets.get(dataset.short_id).files[0].checksum == _crc32(path.read_bytes())
