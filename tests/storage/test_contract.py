"""The `ObjectStore` contract: every test here runs on the file backend and on S3 (moto) and
must pass identically on both."""

from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from mantle.checksums import CRC32_HEADER, crc32_b64
from mantle.errors import InvalidInputError, InvalidKeyError, NotFoundError
from mantle.storage import MIN_PART_SIZE, ObjectStore
from tests.storage.conftest import Backend
from tests.storage.helpers import attempt_everything, md5, read

# -- put / get / head ----------------------------------------------------------------------


def test_put_bytes_roundtrip(store: ObjectStore) -> None:
    info = store.put("docs/hello.txt", b"hello world", content_type="text/plain")
    assert (info.key, info.size, info.etag) == ("docs/hello.txt", 11, md5(b"hello world"))
    assert info.content_type == "text/plain"
    assert read(store, "docs/hello.txt") == b"hello world"
    head = store.head("docs/hello.txt")
    assert (head.key, head.size, head.etag, head.content_type) == (
        "docs/hello.txt",
        11,
        md5(b"hello world"),
        "text/plain",
    )
    assert head.last_modified.tzinfo is not None


def test_put_file_object(store: ObjectStore, tmp_path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert store.put("from-bytesio", io.BytesIO(data)).etag == md5(data)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        store.put("from-file", handle)
    assert read(store, "from-bytesio") == data
    assert read(store, "from-file") == data


def test_put_iterator_of_chunks_larger_than_one_part(store: ObjectStore) -> None:
    # 17 MiB in uneven chunks: on S3 this is streamed as a multipart upload.
    chunks = [os.urandom(3 * 1024 * 1024 + 5) for _ in range(5)] + [os.urandom(1024 * 1024)]
    data = b"".join(chunks)
    info = store.put("big/stream.bin", iter(chunks), content_type="application/x-test")
    assert info.size == len(data)
    assert read(store, "big/stream.bin") == data
    head = store.head("big/stream.bin")
    assert (head.size, head.etag, head.content_type) == (len(data), info.etag, "application/x-test")


def test_empty_object(store: ObjectStore) -> None:
    info = store.put("empty", b"")
    assert (info.size, info.etag) == (0, md5(b""))
    assert read(store, "empty") == b""
    assert store.head("empty").size == 0
    assert store.put("empty-iter", iter([])).size == 0


def test_default_content_type_and_overwrite(store: ObjectStore) -> None:
    store.put("a.bin", b"first", content_type="text/plain")
    store.put("a.bin", b"second version")
    head = store.head("a.bin")
    assert head.content_type == "application/octet-stream"
    assert (head.size, head.etag) == (14, md5(b"second version"))
    assert read(store, "a.bin") == b"second version"


def test_put_refuses_text(store: ObjectStore) -> None:
    with pytest.raises(InvalidInputError, match="bytes"):
        store.put("text", "not bytes")  # type: ignore[arg-type]
    assert not store.exists("text")


def test_missing_object(store: ObjectStore) -> None:
    with pytest.raises(NotFoundError):
        store.head("nope")
    with pytest.raises(NotFoundError):
        store.get("nope")  # raised at call time, before any chunk is read
    assert store.exists("nope") is False
    store.put("yes", b"1")
    assert store.exists("yes") is True


# -- byte ranges ---------------------------------------------------------------------------

DATA_1K = bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        ((0, 0), DATA_1K[:1]),
        ((10, 19), DATA_1K[10:20]),
        ((1000, None), DATA_1K[1000:]),
        ((1020, 5000), DATA_1K[1020:]),  # an end past the object is clamped
        ((0, None), DATA_1K),
        ((1023, 1023), DATA_1K[1023:]),
    ],
)
def test_byte_ranges(store: ObjectStore, byte_range, expected) -> None:
    store.put("ranged", DATA_1K)
    assert read(store, "ranged", byte_range=byte_range) == expected


@pytest.mark.parametrize("byte_range", [(1024, None), (2000, 3000)])
def test_range_past_the_end_is_refused(store: ObjectStore, byte_range) -> None:
    store.put("ranged", DATA_1K)
    with pytest.raises(InvalidInputError):
        read(store, "ranged", byte_range=byte_range)


@pytest.mark.parametrize("byte_range", [(5, 2), (-1, 3), (1.5, 3), [0, 1], (0,)])
def test_malformed_ranges_are_refused(store: ObjectStore, byte_range) -> None:
    store.put("ranged", DATA_1K)
    with pytest.raises(InvalidInputError):
        read(store, "ranged", byte_range=byte_range)


# -- list ----------------------------------------------------------------------------------

LIST_KEYS = ["a/1", "a/2", "a/b/3", "a-c", "b", "c/d/e", "c/d/f", "ca", "é/x", "z"]


@pytest.fixture
def listed(store: ObjectStore) -> ObjectStore:
    for key in reversed(LIST_KEYS):
        store.put(key, key.encode())
    return store


def all_pages(store: ObjectStore, prefix: str = "", **kwargs) -> tuple[list[str], list[str]]:
    keys, prefixes, cursor = [], [], None
    while True:
        page = store.list(prefix, cursor=cursor, **kwargs)
        keys += [info.key for info in page.objects]
        prefixes += page.common_prefixes
        if page.next_cursor is None:
            return keys, prefixes
        cursor = page.next_cursor


def test_list_everything_in_byte_order(listed: ObjectStore) -> None:
    page = listed.list()
    # '-' (0x2d) sorts before '/' (0x2f): "a-c" comes before "a/1", unlike a folder walk.
    assert [o.key for o in page.objects] == sorted(LIST_KEYS)
    assert page.common_prefixes == [] and page.next_cursor is None
    first = page.objects[0]
    assert (first.key, first.size, first.etag) == ("a-c", 3, md5(b"a-c"))


def test_list_with_prefix(listed: ObjectStore) -> None:
    assert [o.key for o in listed.list("a/").objects] == ["a/1", "a/2", "a/b/3"]
    assert [o.key for o in listed.list("a").objects] == ["a-c", "a/1", "a/2", "a/b/3"]
    assert [o.key for o in listed.list("c").objects] == ["c/d/e", "c/d/f", "ca"]
    assert [o.key for o in listed.list("c/d/").objects] == ["c/d/e", "c/d/f"]
    assert listed.list("nothing/").objects == []


def test_list_with_delimiter(listed: ObjectStore) -> None:
    page = listed.list(delimiter="/")
    assert [o.key for o in page.objects] == ["a-c", "b", "ca", "z"]
    assert page.common_prefixes == ["a/", "c/", "é/"]
    page = listed.list("a/", delimiter="/")
    assert ([o.key for o in page.objects], page.common_prefixes) == (["a/1", "a/2"], ["a/b/"])
    page = listed.list("c/", delimiter="/")
    assert (page.objects, page.common_prefixes) == ([], ["c/d/"])


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_list_pagination(listed: ObjectStore, limit: int) -> None:
    first = listed.list(limit=limit)
    assert len(first.objects) == limit and first.next_cursor is not None
    assert all_pages(listed, limit=limit) == (sorted(LIST_KEYS), [])


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_list_pagination_with_delimiter(listed: ObjectStore, limit: int) -> None:
    keys, prefixes = all_pages(listed, delimiter="/", limit=limit)
    assert keys == ["a-c", "b", "ca", "z"]
    assert prefixes == ["a/", "c/", "é/"]
    page = listed.list(delimiter="/", limit=2)  # objects and prefixes both count
    assert len(page.objects) + len(page.common_prefixes) == 2


def test_list_limit_is_bounded(store: ObjectStore) -> None:
    for limit in (0, 1001, -1):
        with pytest.raises(InvalidInputError):
            store.list(limit=limit)


# -- delete / copy -------------------------------------------------------------------------


def test_delete_is_idempotent(backend: Backend) -> None:
    store = backend.store
    store.put("d/x", b"1")
    store.put("d/y", b"2")
    store.delete("d/x")
    assert not store.exists("d/x") and store.exists("d/y")
    store.delete("d/x")
    store.delete("never/existed")
    assert backend.inside() == {"d/y"}
    assert [o.key for o in store.list().objects] == ["d/y"]


def test_copy(store: ObjectStore) -> None:
    store.put("src/data.csv", b"a,b\n1,2\n", content_type="text/csv")
    info = store.copy("src/data.csv", "dst/copy.csv")
    assert (info.key, info.size, info.etag) == ("dst/copy.csv", 8, md5(b"a,b\n1,2\n"))
    assert read(store, "dst/copy.csv") == b"a,b\n1,2\n"
    assert store.head("dst/copy.csv").content_type == "text/csv"
    assert read(store, "src/data.csv") == b"a,b\n1,2\n"
    with pytest.raises(NotFoundError):
        store.copy("src/missing", "dst/other")
    assert not store.exists("dst/other")


def test_uri(backend: Backend) -> None:
    uri = backend.store.uri("runs/42/outputs.json")
    if backend.name == "file":
        assert uri.startswith("file:///") and uri.endswith("/root/runs/42/outputs.json")
    else:
        assert uri.startswith("s3://mantle-test-") and uri.endswith(
            "/root/prefix/runs/42/outputs.json"
        )
    assert backend.store.root_uri == uri.removesuffix("runs/42/outputs.json")


# -- presigned URLs over HTTP --------------------------------------------------------------


def test_presigned_get(backend: Backend) -> None:
    backend.store.put("share/report.txt", DATA_1K, content_type="text/plain")
    url = backend.store.presign_get("share/report.txt", expires_in=300)
    response = backend.http.get(url)
    assert response.status_code == 200
    assert response.content == DATA_1K
    assert response.headers["etag"].strip('"') == md5(DATA_1K)
    assert response.headers["content-type"].startswith("text/plain")


def test_presigned_get_with_range(backend: Backend) -> None:
    backend.store.put("share/ranged.bin", DATA_1K)
    url = backend.store.presign_get("share/ranged.bin")
    response = backend.http.get(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.content == DATA_1K[100:200]
    assert response.headers["content-range"] == "bytes 100-199/1024"
    response = backend.http.get(url, headers={"Range": "bytes=1000-"})
    assert (response.status_code, response.content) == (206, DATA_1K[1000:])


def test_presigned_get_with_download_filename(backend: Backend) -> None:
    backend.store.put("share/x", b"data")
    url = backend.store.presign_get("share/x", filename="résumé 2024.csv")
    response = backend.http.get(url)
    assert response.status_code == 200
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%202024.csv" in response.headers["content-disposition"]


def test_presigned_put(backend: Backend) -> None:
    data = os.urandom(2 * 1024 * 1024)
    url = backend.store.presign_put("uploads/in.csv", expires_in=300, content_type="text/csv")
    response = backend.http.put(url, content=data, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200
    assert response.headers["etag"].strip('"') == md5(data)
    head = backend.store.head("uploads/in.csv")
    assert (head.size, head.etag, head.content_type) == (len(data), md5(data), "text/csv")
    assert read(backend.store, "uploads/in.csv") == data


def test_presigned_create_only_put(backend: Backend) -> None:
    """A create-only URL creates its object once; it can never replace it (412), and its
    rule cannot be dropped: S3 signs `If-None-Match`, the file store signs the flag."""
    store = backend.store.scoped("t1")
    url = store.presign_put("up/new.bin", crc32=crc32_b64(b"first"), create_only=True)
    headers = {"If-None-Match": "*", CRC32_HEADER: crc32_b64(b"first")}
    assert backend.http.put(url, content=b"first", headers=headers).status_code == 200
    again = backend.http.put(url, content=b"first", headers=headers)
    assert again.status_code == 412
    assert read(store, "up/new.bin") == b"first"
    query = parse_qs(urlsplit(url).query)
    if backend.name == "s3":
        assert "if-none-match" in query["X-Amz-SignedHeaders"][0].split(";")
    else:
        assert query["create_only"] == ["1"]
        dropped = url.replace("&create_only=1", "")
        refused = backend.http.put(dropped, content=b"first", headers=headers)
        assert refused.status_code == 403  # the signature covers the flag
    assert backend.inside() == {"t1/up/new.bin"}


def test_presigned_key_with_special_characters(backend: Backend) -> None:
    key = "odd names/a b+c%d?e#f&g=h.txt"
    url = backend.store.presign_put(key)
    assert backend.http.put(url, content=b"odd").status_code == 200
    assert read(backend.store, key) == b"odd"
    assert backend.http.get(backend.store.presign_get(key)).content == b"odd"


# -- multipart -----------------------------------------------------------------------------


def upload_parts_over_http(backend: Backend, key: str, upload_id: str, parts: list[bytes]):
    uploaded = []
    for number, data in enumerate(parts, start=1):
        url = backend.store.presign_part(key, upload_id, number, expires_in=600)
        response = backend.http.put(url, content=data)
        assert response.status_code == 200, response.text
        uploaded.append((number, response.headers["etag"]))
    return uploaded


def test_multipart_through_presigned_urls(backend: Backend) -> None:
    store = backend.store
    parts = [os.urandom(MIN_PART_SIZE), os.urandom(MIN_PART_SIZE + 3), b"tail"]
    upload_id = store.create_multipart("big/assembled.bin", content_type="application/x-big")
    uploaded = upload_parts_over_http(backend, "big/assembled.bin", upload_id, parts)

    listed = store.list_parts("big/assembled.bin", upload_id)
    assert [(p.part_number, p.size, p.etag) for p in listed] == [
        (n, len(d), md5(d)) for n, d in enumerate(parts, start=1)
    ]

    info = store.complete_multipart("big/assembled.bin", upload_id, uploaded)
    expected_etag = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in parts)).hexdigest()
    assert info.etag == f"{expected_etag}-3"
    assert info.size == sum(map(len, parts))
    assert read(store, "big/assembled.bin") == b"".join(parts)
    head = store.head("big/assembled.bin")
    assert (head.etag, head.content_type) == (f"{expected_etag}-3", "application/x-big")
    assert backend.pending_uploads() == []


def test_crc32_checked_multipart_through_presigned_urls(backend: Backend) -> None:
    """`checksum="crc32"`: each part's URL is signed with its CRC32 and sent with the header
    the signature names; completing takes the part checksums."""
    store = backend.store
    parts = [os.urandom(MIN_PART_SIZE), b"tail"]
    upload_id = store.create_multipart("crc/file.bin", checksum="crc32")
    sums = {n: crc32_b64(d) for n, d in enumerate(parts, start=1)}
    uploaded = []
    for n, data in enumerate(parts, start=1):
        url = store.presign_part("crc/file.bin", upload_id, n, crc32=sums[n])
        response = backend.http.put(url, content=data, headers={CRC32_HEADER: sums[n]})
        assert response.status_code == 200, response.text
        uploaded.append((n, response.headers["etag"]))
    info = store.complete_multipart("crc/file.bin", upload_id, uploaded, crc32=sums)
    assert info.size == sum(map(len, parts))
    assert read(store, "crc/file.bin") == b"".join(parts)
    with pytest.raises(InvalidInputError, match="checksum must be"):
        store.create_multipart("crc/other.bin", checksum="md5")
    with pytest.raises(InvalidInputError, match="base64 CRC32"):
        store.presign_part("crc/file.bin", upload_id, 1, crc32="not-a-crc")


def test_multipart_server_side_parts_and_reupload(backend: Backend) -> None:
    store = backend.store
    upload_id = store.create_multipart("m.bin")
    store.upload_part("m.bin", upload_id, 1, b"x" * MIN_PART_SIZE)
    first_try = store.upload_part("m.bin", upload_id, 2, b"old")
    second_try = store.upload_part("m.bin", upload_id, 2, iter([b"ne", b"w"]))
    assert first_try != second_try
    part_one = md5(b"x" * MIN_PART_SIZE)
    assert [(p.part_number, p.etag) for p in store.list_parts("m.bin", upload_id)] == [
        (1, part_one),
        (2, second_try),
    ]
    store.complete_multipart("m.bin", upload_id, [(1, f'"{part_one}"'), (2, second_try)])
    assert read(store, "m.bin") == b"x" * MIN_PART_SIZE + b"new"


def test_multipart_abort_leaves_nothing(backend: Backend) -> None:
    store = backend.store
    upload_id = store.create_multipart("aborted.bin")
    upload_parts_over_http(backend, "aborted.bin", upload_id, [b"a" * 1000, b"b"])
    assert backend.pending_uploads() != []
    store.abort_multipart("aborted.bin", upload_id)
    assert backend.pending_uploads() == []
    assert backend.inside() == set()
    with pytest.raises(NotFoundError):
        store.list_parts("aborted.bin", upload_id)
    store.abort_multipart("aborted.bin", upload_id)  # idempotent
    assert not store.exists("aborted.bin")


def test_multipart_wrong_etag_is_refused(backend: Backend) -> None:
    store = backend.store
    upload_id = store.create_multipart("w.bin")
    etag = store.upload_part("w.bin", upload_id, 1, b"only part")
    with pytest.raises(InvalidInputError):
        store.complete_multipart("w.bin", upload_id, [(1, md5(b"something else"))])
    with pytest.raises(InvalidInputError):
        store.complete_multipart("w.bin", upload_id, [(1, etag), (2, etag)])  # part 2 missing
    assert not store.exists("w.bin")
    # The upload survives a refused completion and can still be completed correctly.
    store.complete_multipart("w.bin", upload_id, [(1, etag)])
    assert read(store, "w.bin") == b"only part"


def test_multipart_part_rules(store: ObjectStore) -> None:
    upload_id = store.create_multipart("r.bin")
    small = store.upload_part("r.bin", upload_id, 1, b"small")
    last = store.upload_part("r.bin", upload_id, 2, b"last")
    with pytest.raises(InvalidInputError):  # every part but the last must be >= 5 MiB
        store.complete_multipart("r.bin", upload_id, [(1, small), (2, last)])
    with pytest.raises(InvalidInputError, match="ascending"):
        store.complete_multipart("r.bin", upload_id, [(2, last), (1, small)])
    with pytest.raises(InvalidInputError):
        store.complete_multipart("r.bin", upload_id, [])
    for bad_number in (0, 10_001, "1"):
        with pytest.raises(InvalidInputError):
            store.upload_part("r.bin", upload_id, bad_number, b"x")
    assert not store.exists("r.bin")
    store.abort_multipart("r.bin", upload_id)


# -- key safety ----------------------------------------------------------------------------

BAD_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    "a/../../b",
    "a/../b",
    "a\x00b",
    "a//b",
    "..",
    ".",
    "./a",
    "a/.",
    "a/",
    "",
    "a\\..\\b",
    "a\nb",
    "a\x7fb",
    "x" * 1025,
    "é" * 513,  # 1026 bytes in UTF-8
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_bad_keys_are_refused_everywhere(backend: Backend, key: str) -> None:
    backend.store.put("safe", b"safe")
    assert attempt_everything(backend.store, key) == []
    assert backend.inside() == {"safe"}
    assert backend.outside() == backend.planted_outside
    assert backend.pending_uploads() == []


@pytest.mark.parametrize("prefix", ["../", "/", "/etc", "a//", "a/../", "..", "a\x00"])
def test_bad_list_prefixes_are_refused(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKeyError):
        store.list(prefix)


def test_key_error_messages_name_the_problem(store: ObjectStore) -> None:
    cases = {
        "": "empty",
        "/etc/passwd": "absolute",
        "a/../b": "'..'",
        "a//b": "empty path",
        "a\x00b": "control character",
        "a\\b": "backslash",
        "x" * 1025: "1024",
    }
    for key, words in cases.items():
        with pytest.raises(InvalidKeyError, match=words):
            store.head(key)


def test_longest_valid_key_works(store: ObjectStore) -> None:
    key = "/".join(["k" * 200] * 4)  # 803 bytes: within S3's limit even under the root prefix
    store.put(key, b"long")
    assert read(store, key) == b"long"


# -- scoped (tenant) views -----------------------------------------------------------------


def test_scoped_views_are_confined(backend: Backend) -> None:
    store = backend.store
    tenant_a = store.scoped("tenants/a/")
    tenant_b = store.scoped("tenants/b")  # a missing trailing slash is added
    tenant_b.put("secret.txt", b"b's secret")
    info = tenant_a.put("data/one.txt", b"a's data", content_type="text/plain")

    assert info.key == "data/one.txt"
    assert tenant_a.head("data/one.txt").key == "data/one.txt"
    assert backend.inside() == {"tenants/a/data/one.txt", "tenants/b/secret.txt"}
    assert [o.key for o in tenant_a.list().objects] == ["data/one.txt"]
    assert tenant_a.list(delimiter="/").common_prefixes == ["data/"]
    assert store.list("tenants/", delimiter="/").common_prefixes == ["tenants/a/", "tenants/b/"]
    assert tenant_a.uri("data/one.txt") == store.uri("tenants/a/data/one.txt")
    assert tenant_a.root_uri == store.root_uri + "tenants/a/"

    for key in [
        "../b/secret.txt",
        "../../tenants/b/secret.txt",
        "/tenants/b/secret.txt",
        "data/../../b/secret.txt",
        "..",
        "./../b/secret.txt",
    ]:
        assert attempt_everything(tenant_a, key) == [], key
        with pytest.raises(InvalidKeyError):
            tenant_a.list(key)
    with pytest.raises(NotFoundError):
        tenant_a.head("secret.txt")
    assert read(tenant_b, "secret.txt") == b"b's secret"
    assert backend.inside() == {"tenants/a/data/one.txt", "tenants/b/secret.txt"}
    assert backend.outside() == backend.planted_outside


def test_scope_is_a_folder_not_a_string_prefix(store: ObjectStore) -> None:
    store.put("tenants/ab/x", b"ab's")
    tenant_a = store.scoped("tenants/a")
    assert tenant_a.list().objects == []
    assert not tenant_a.exists("b/x")
    with pytest.raises(NotFoundError):
        tenant_a.get("b/x")


@pytest.mark.parametrize("prefix", ["", "../", "/tenants/a", "tenants/../b", "a//b/"])
def test_bad_scopes_are_refused(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKeyError):
        store.scoped(prefix)


def test_nested_scopes(backend: Backend) -> None:
    run = backend.store.scoped("tenants/a/").scoped("runs/42")
    run.put("outputs.json", b"{}")
    assert backend.inside() == {"tenants/a/runs/42/outputs.json"}
    assert [o.key for o in run.list().objects] == ["outputs.json"]
    with pytest.raises(InvalidKeyError):
        run.get("../../../b/x")


def test_scoped_presigned_and_multipart(backend: Backend) -> None:
    tenant = backend.store.scoped("tenants/a/")
    url = tenant.presign_put("in/upload.txt")
    assert backend.http.put(url, content=b"via url").status_code == 200
    assert backend.inside() == {"tenants/a/in/upload.txt"}
    assert backend.http.get(tenant.presign_get("in/upload.txt")).content == b"via url"

    upload_id = tenant.create_multipart("in/multi.bin")
    parts = [os.urandom(MIN_PART_SIZE), b"end"]
    uploaded = upload_parts_over_http(
        Backend(
            backend.name,
            tenant,
            backend.http,
            backend.inside,
            backend.outside,
            backend.pending_uploads,
            backend.planted_outside,
        ),
        "in/multi.bin",
        upload_id,
        parts,
    )
    assert [p.part_number for p in tenant.list_parts("in/multi.bin", upload_id)] == [1, 2]
    info = tenant.complete_multipart("in/multi.bin", upload_id, uploaded)
    assert info.key == "in/multi.bin"
    assert read(tenant, "in/multi.bin") == b"".join(parts)
    assert backend.inside() == {"tenants/a/in/upload.txt", "tenants/a/in/multi.bin"}
