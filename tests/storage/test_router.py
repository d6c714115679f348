"""The `/storage/o/` route that serves the file backend's signed URLs, in a bare FastAPI app
(no global error handlers) and once behind a real uvicorn server."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from mantle.checksums import crc32_b64
from mantle.storage import FileObjectStore, UrlSigner
from tests.storage.conftest import PUBLIC_URL, SECRET_KEY, storage_app

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def store(tmp_path) -> FileObjectStore:
    store = FileObjectStore(tmp_path / "root", signer=UrlSigner(SECRET_KEY, PUBLIC_URL))
    store.put("files/data.bin", DATA, content_type="application/x-data")
    return store


@pytest.fixture
def http(store) -> Iterator[TestClient]:
    with TestClient(storage_app(store)) as client:
        yield client


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"code", "message", "details"}


# -- GET -----------------------------------------------------------------------------------


def test_get_headers(http, store) -> None:
    response = http.get(store.presign_get("files/data.bin"))
    assert response.status_code == 200 and response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == f'"{hashlib.md5(DATA).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/x-data"
    assert response.headers["last-modified"].endswith("GMT")
    # Always a download, never rendered or sniffed: stored bytes are whatever a user uploaded.
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"data.bin\"; filename*=UTF-8''data.bin"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-0", DATA[:1], "bytes 0-0/10240"),
        ("bytes=10000-", DATA[10000:], "bytes 10000-10239/10240"),
        ("bytes=-40", DATA[-40:], "bytes 10200-10239/10240"),
        ("bytes=-99999", DATA, "bytes 0-10239/10240"),
        ("bytes=10230-99999", DATA[10230:], "bytes 10230-10239/10240"),
    ],
)
def test_ranges(http, store, header, expected, content_range) -> None:
    response = http.get(store.presign_get("files/data.bin"), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range(http, store, header) -> None:
    response = http.get(store.presign_get("files/data.bin"), headers={"Range": header})
    assert_error(response, 416, "invalid_input")
    assert response.headers["content-range"] == "bytes */10240"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=5-2", "garbage"])
def test_unsupported_range_sends_everything(http, store, header) -> None:
    response = http.get(store.presign_get("files/data.bin"), headers={"Range": header})
    assert (response.status_code, response.content) == (200, DATA)


def test_range_on_empty_object(http, store) -> None:
    store.put("empty", b"")
    url = store.presign_get("empty")
    assert http.get(url).content == b""
    assert http.get(url, headers={"Range": "bytes=0-"}).status_code == 416


def test_missing_object_is_404_json(http, store) -> None:
    assert_error(http.get(store.presign_get("files/missing")), 404, "not_found")


# -- PUT -----------------------------------------------------------------------------------


def test_put_returns_exposable_etag(http, store) -> None:
    response = http.put(store.presign_put("up/x.bin"), content=b"payload")
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    assert "ETag" in response.headers["access-control-expose-headers"]
    assert store.head("up/x.bin").content_type == "application/octet-stream"


def test_put_keeps_the_declared_content_type(http, store) -> None:
    http.put(
        store.presign_put("up/page.html"), content=b"<p>", headers={"Content-Type": "text/html"}
    )
    assert store.head("up/page.html").content_type == "text/html"


def test_put_signed_for_a_content_type_refuses_another(http, store) -> None:
    url = store.presign_put("up/data.csv", content_type="text/csv")
    response = http.put(url, content=b"<script>", headers={"Content-Type": "text/html"})
    assert_error(response, 403, "permission_denied")
    assert not store.exists("up/data.csv")
    http.put(url, content=b"a,b")  # no header: the signed type is used
    assert store.head("up/data.csv").content_type == "text/csv"


def test_body_must_match_the_signed_crc32(http, store) -> None:
    """Like S3's BadDigest: a body whose CRC32 is not the signed one is refused and nothing of
    it is kept, for whole objects and parts alike; the CRC32 cannot be changed in the URL."""
    put_url = store.presign_put("up/checked.bin", crc32=crc32_b64(b"expected"))
    assert_error(http.put(put_url, content=b"corrupted"), 400, "checksum_mismatch")
    assert not store.exists("up/checked.bin")
    assert_error(
        http.put(with_query(put_url, crc32=crc32_b64(b"corrupted")), content=b"corrupted"),
        403, "permission_denied",
    )  # fmt: skip
    assert http.put(put_url, content=b"expected").status_code == 200

    upload_id = store.create_multipart("up/parts.bin", checksum="crc32")
    part_url = store.presign_part("up/parts.bin", upload_id, 1, crc32=crc32_b64(b"part one"))
    assert_error(http.put(part_url, content=b"part 1!!"), 400, "checksum_mismatch")
    assert store.list_parts("up/parts.bin", upload_id) == []
    assert http.put(part_url, content=b"part one").status_code == 200
    assert [p.size for p in store.list_parts("up/parts.bin", upload_id)] == [8]


def test_part_upload_needs_a_live_upload(http, store) -> None:
    upload_id = store.create_multipart("up/multi.bin")
    url = store.presign_part("up/multi.bin", upload_id, 1)
    store.abort_multipart("up/multi.bin", upload_id)
    assert_error(http.put(url, content=b"x"), 404, "not_found")


# -- refusing bad URLs ---------------------------------------------------------------------


def _flip_first(signature: str) -> str:
    # Always a different character: a signature may itself start with "A".
    return ("B" if signature[0] == "A" else "A") + signature[1:]


def test_tampered_urls_are_refused(http, store) -> None:
    get_url = store.presign_get("files/data.bin", filename="data.bin")
    put_url = store.presign_put("files/new.bin")
    upload_id = store.create_multipart("files/multi.bin")
    part_url = store.presign_part("files/multi.bin", upload_id, 1)
    other_upload = store.create_multipart("files/multi.bin")

    gets = [
        get_url.replace("files/data.bin", "files/other.bin"),
        get_url.replace("files/data.bin", "files/%2E%2E/files/data.bin"),
        with_query(get_url, expires=str(int(time.time()) + 99_999)),
        with_query(get_url, sig=_flip_first(dict(parse_qsl(urlsplit(get_url).query))["sig"])),
        with_query(get_url, filename="evil.html"),
        with_query(get_url, op="put"),
        get_url.split("?")[0],  # no signature at all
        get_url.split("&sig=")[0],
    ]
    for url in gets:
        assert_error(http.get(url), 403, "permission_denied")
    puts = [
        put_url.replace("files/new.bin", "files/other.bin"),
        with_query(put_url, op="part", upload_id=upload_id, part_number="1"),
        with_query(part_url, part_number="2"),
        with_query(part_url, upload_id=other_upload),
        with_query(part_url, op="put"),
        get_url,  # a GET grant does not allow a PUT
    ]
    for url in puts:
        assert_error(http.put(url, content=b"pwned"), 403, "permission_denied")
    assert_error(http.get(put_url), 403, "permission_denied")  # nor the other way round
    assert not store.exists("files/new.bin") and not store.exists("files/other.bin")
    assert store.list_parts("files/multi.bin", upload_id) == []
    assert store.list_parts("files/multi.bin", other_upload) == []


def test_expired_urls_are_refused(http, store) -> None:
    past = FileObjectStore(
        store.root, signer=UrlSigner(SECRET_KEY, PUBLIC_URL, clock=lambda: time.time() - 7200)
    )
    upload_id = store.create_multipart("files/multi.bin")
    expired = [
        ("GET", past.presign_get("files/data.bin", expires_in=3600)),
        ("PUT", past.presign_put("files/late.bin", expires_in=3600)),
        ("PUT", past.presign_part("files/multi.bin", upload_id, 1, expires_in=3600)),
    ]
    for method, url in expired:
        response = http.request(method, url, content=b"late" if method == "PUT" else None)
        assert_error(response, 403, "permission_denied")
        assert "expired" in response.json()["error"]["message"]
    assert not store.exists("files/late.bin")
    assert store.list_parts("files/multi.bin", upload_id) == []


def test_url_signed_with_another_secret_is_refused(http, store) -> None:
    forger = FileObjectStore(store.root, signer=UrlSigner("forged" * 8, PUBLIC_URL))
    assert_error(
        http.put(forger.presign_put("files/forged.bin"), content=b"x"), 403, "permission_denied"
    )
    assert not store.exists("files/forged.bin")


def test_store_without_signer_serves_nothing(tmp_path) -> None:
    with TestClient(storage_app(FileObjectStore(tmp_path / "plain"))) as client:
        assert_error(client.get("/storage/o/x?op=get&expires=1&sig=x"), 404, "not_found")


# -- streaming, behind a real server -------------------------------------------------------


class RecordingStore(FileObjectStore):
    """Remembers the size of each chunk the route handed to the store."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chunk_sizes: list[int] = []

    def _put(self, key, chunks, content_type):
        def recorded():
            for chunk in chunks:
                self.chunk_sizes.append(len(chunk))
                yield chunk

        return super()._put(key, recorded(), content_type)


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, RecordingStore]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    store = RecordingStore(tmp_path / "root", signer=UrlSigner(SECRET_KEY, base_url))
    config = uvicorn.Config(storage_app(store), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield base_url, store
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_upload_is_streamed_not_buffered(live_server) -> None:
    _, store = live_server
    blocks = [os.urandom(256 * 1024) for _ in range(48)]  # 12 MiB, sent chunked
    url = store.presign_put("stream/big.bin")
    response = httpx.put(url, content=iter(blocks), timeout=30)
    assert response.status_code == 200, response.text
    data = b"".join(blocks)
    assert response.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert store.read_bytes("stream/big.bin") == data
    # The store saw the body arrive in many pieces, never as one buffered blob.
    assert len(store.chunk_sizes) > 10 and max(store.chunk_sizes) < len(data) // 4


def test_download_with_range_over_a_real_server(live_server) -> None:
    _, store = live_server
    data = os.urandom(3 * 1024 * 1024)
    store.put("stream/dl.bin", data)
    url = store.presign_get("stream/dl.bin", filename="dl.bin")
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.status_code == 200
        assert b"".join(response.iter_bytes()) == data
        assert 'filename="dl.bin"' in response.headers["content-disposition"]
    response = httpx.get(url, headers={"Range": "bytes=1048576-2097151"}, timeout=30)
    assert (response.status_code, response.content) == (206, data[1048576:2097152])
