"""The same upload flow with the platform's object store on S3 (moto): clients PUT parts to
presigned S3 URLs, the server verifies and assembles them."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from mantle.app import create_app
from mantle.checksums import crc32_b64
from tests.aws import unique_name
from tests.factories import Factory

MiB = 1024 * 1024


@pytest.fixture
def s3_api(settings, database, moto_server):
    bucket = unique_name("platform")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    settings.storage.root = f"s3://{bucket}/mantle"
    settings.storage.s3_endpoint_url = moto_server.endpoint_url
    settings.storage.s3_region = "us-east-1"
    with TestClient(create_app(settings, db=database)) as client:
        yield client, bucket


def test_multipart_upload_to_s3(s3_api, database, moto_server):
    api, bucket = s3_api
    owner = Factory(database, api).member("acme", "ann@example.com", "owner")
    data = bytes(range(256)) * (36864 + 3)  # 9 MiB and a bit: two parts
    upload = api.post("/api/v1/tenants/acme/uploads", headers=owner.headers, json={
        "name": "s3 run", "data_type": "file", "files": [{"name": "big.bin", "size": len(data)}],
    }).json()  # fmt: skip
    file = upload["files"][0]
    assert file["part_count"] == 2
    chunks = {n: data[(n - 1) * upload["part_size"] : n * upload["part_size"]] for n in (1, 2)}
    crc32 = {str(n): crc32_b64(chunk) for n, chunk in chunks.items()}
    answer = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/urls",
        headers=owner.headers,
        json={"file_id": file["id"], "part_numbers": [1, 2], "crc32": crc32},
    ).json()
    urls = answer["urls"]
    headers = answer["headers"]
    for n, url in urls.items():
        assert url.startswith(moto_server.endpoint_url)
        # The checksum is signed (a SigV4 signed header): S3 refuses another body.
        signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
        assert "x-amz-checksum-crc32" in signed
        assert headers[n] == {"x-amz-checksum-crc32": crc32[n]}
    for n, chunk in chunks.items():
        response = httpx.put(urls[str(n)], content=chunk, headers=headers[str(n)])
        assert response.status_code == 200, response.text
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete",
        headers=owner.headers,
        json={"crc32": {file["id"]: crc32},
              "md5": {file["id"]: {n: hashlib.md5(c).hexdigest() for n, c in chunks.items()}}},
    )  # fmt: skip
    assert done.status_code == 201, done.text
    uri = done.json()["files"][0]["uri"]
    assert uri.startswith(f"s3://{bucket}/mantle/tenants/")
    key = uri.removeprefix(f"s3://{bucket}/")
    s3 = moto_server.client("s3")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32")  # assembled as a CRC32-checked upload
    link = api.get(
        f"/api/v1/tenants/acme/datasets/{done.json()['short_id']}/download", headers=owner.headers
    ).json()[0]
    assert httpx.get(link["url"]).content == data


def s3_upload(api, owner, files: dict[str, bytes]) -> tuple[dict, dict[str, dict]]:
    """Start an upload of `files` and PUT them all; returns it and, by file name, the answer
    that signed its parts (`urls` and `headers`, by part number)."""
    upload = api.post("/api/v1/tenants/acme/uploads", headers=owner.headers, json={
        "name": "s3 run", "data_type": "file",
        "files": [{"name": n, "size": len(d)} for n, d in files.items()],
    }).json()  # fmt: skip
    urls = {}
    for file in upload["files"]:
        data = files[file["name"]]
        size = upload["part_size"]
        chunks = {n: data[(n - 1) * size : n * size] for n in range(1, file["part_count"] + 1)}
        answer = api.post(
            f"/api/v1/tenants/acme/uploads/{upload['id']}/urls",
            headers=owner.headers,
            json={"file_id": file["id"], "part_numbers": list(chunks),
                  "crc32": {str(n): crc32_b64(c) for n, c in chunks.items()}},
        ).json()  # fmt: skip
        urls[file["name"]] = answer  # {"urls": {part: URL}, "headers": {part: headers}}
        for n, chunk in chunks.items():
            response = httpx.put(answer["urls"][str(n)], content=chunk,
                                 headers=answer["headers"][str(n)])  # fmt: skip
            assert response.status_code == 200, response.text
    return upload, urls


def test_s3_upload_urls_cannot_change_a_completed_dataset(s3_api, database, moto_server):
    api, bucket = s3_api
    owner = Factory(database, api).member("acme", "ann@example.com", "owner")
    files = {"s.txt": b"original", "big.bin": bytes(range(256)) * (36864 + 3)}
    upload, urls = s3_upload(api, owner, files)
    url, headers = urls["s.txt"]["urls"]["1"], urls["s.txt"]["headers"]["1"]
    assert headers["If-None-Match"] == "*"  # signed: S3 refuses the URL without it
    assert "if-none-match" in parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0]
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", headers=owner.headers, json={}
    )
    assert done.status_code == 201, done.text
    s3 = moto_server.client("s3")

    # A presigned single PUT stays valid on S3 until it expires, but it may only create.
    tampered = {**headers, "x-amz-checksum-crc32": crc32_b64(b"tampered")}
    assert httpx.put(url, content=b"tampered", headers=tampered).status_code == 412
    # The multipart upload id no longer exists after completion (S3: 404 NoSuchUpload;
    # moto answers 500 here, so only the refusal is asserted).
    assert httpx.put(urls["big.bin"]["urls"]["1"], content=b"x" * 100).status_code >= 400
    by_name = {f["name"]: f["uri"] for f in done.json()["files"]}
    for name, data in files.items():
        key = by_name[name].removeprefix(f"s3://{bucket}/")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_s3_upload_urls_die_with_an_aborted_upload(s3_api, database, moto_server):
    api, bucket = s3_api
    owner = Factory(database, api).member("acme", "ann@example.com", "owner")
    upload, urls = s3_upload(api, owner, {"big.bin": b"q" * (9 * MiB), "s.txt": b"s"})
    aborted = api.delete(f"/api/v1/tenants/acme/uploads/{upload['id']}", headers=owner.headers)
    assert aborted.status_code == 200
    assert httpx.put(urls["big.bin"]["urls"]["2"], content=b"x").status_code >= 400  # as above
    assert moto_server.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_s3_presigned_downloads_are_attachments(s3_api, database, moto_server):
    api, bucket = s3_api
    owner = Factory(database, api).member("acme", "ann@example.com", "owner")
    html = b"<script>alert(document.domain)</script>"
    upload, _ = s3_upload(api, owner, {"report.html": html})
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", headers=owner.headers, json={}
    ).json()
    link = api.get(
        f"/api/v1/tenants/acme/datasets/{done['short_id']}/download", headers=owner.headers
    ).json()[0]
    query = parse_qs(urlsplit(link["url"]).query)
    assert query["response-content-disposition"] == ["attachment"]  # signed into the URL
    response = httpx.get(link["url"])
    assert response.content == html
    assert response.headers["content-disposition"] == "attachment"
    store = api.app.state.object_store
    named = parse_qs(urlsplit(store.presign_get("x/r.html", filename="r é.html")).query)
    assert named["response-content-disposition"] == [
        "attachment; filename=\"r _.html\"; filename*=UTF-8''r%20%C3%A9.html"
    ]


def test_the_store_prefix_counts_toward_the_key_limit(s3_api, database):
    api, _bucket = s3_api
    owner = Factory(database, api).member("acme", "ann@example.com", "owner")
    # mantle/ + tenants/<id>/ + uploads/<id>/ come before the name: 97 of S3's 1024 bytes.
    room = 1024 - len("mantle/") - 90
    for size, status in ((room + 1, 422), (room, 201)):
        name = "/".join(["d" * 200] * 4) + "/" + "f" * (size - 804)
        response = api.post("/api/v1/tenants/acme/uploads", headers=owner.headers, json={
            "name": "long", "data_type": "file", "files": [{"name": name, "size": 1}],
        })  # fmt: skip
        assert response.status_code == status, response.text
