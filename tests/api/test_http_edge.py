"""The HTTP edge: security headers, the request body cap, local API docs, and signed URLs kept
out of the access log. None of these needs a database, so the app here has an empty one."""

from __future__ import annotations

import base64
import hashlib
import logging
import logging.config
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mantle.api.access_log import uvicorn_log_config
from mantle.app import create_app
from mantle.settings import Settings
from tests.conftest import TEST_SECRET_KEY

MiB = 1024 * 1024


def client_for(tmp_path, **overrides) -> TestClient:
    values = {
        "data_dir": tmp_path,
        "secret_key": TEST_SECRET_KEY,
        "public_url": "http://testserver",
        "database": {"url": f"sqlite:///{tmp_path / 'unused.db'}"},
        "storage": {"root": (tmp_path / "objects").as_uri()},
        "worker": {"embedded": False},
    }
    settings = Settings(**(values | overrides))
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> Iterator[TestClient]:
    with client_for(tmp_path_factory.mktemp("edge")) as client:
        yield client


# -- security headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/login", 200), ("/static/mantle.css", 200), ("/api/v1/me", 401),
     ("/no/such/page", 404)],
)  # fmt: skip
def test_pages_and_api_responses_carry_security_headers(edge, path, status):
    response = edge.get(path)
    assert response.status_code == status
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "strict-transport-security" not in headers  # plain http: HSTS would lock users out


def test_hsts_only_when_the_public_url_is_https(tmp_path):
    with client_for(tmp_path, public_url="https://mantle.example.com") as client:
        response = client.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_login_page_has_no_inline_script_or_style(edge):
    # The page CSP forbids inline code; the login page must not need any.
    html = edge.get("/login").text
    assert "<script" not in html and "<style" not in html and " style=" not in html


# -- API docs ----------------------------------------------------------------------------------


def test_docs_use_only_same_origin_assets(edge):
    response = edge.get("/docs")
    assert response.status_code == 200
    html = response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        assert edge.get(url).status_code == 200, url
    assert "url: '/openapi.json'" in html and edge.get("/openapi.json").status_code == 200
    # Its one inline script (Swagger UI's set-up) is allowed by hash, nothing else inline.
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = response.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp
    assert edge.get("/redoc").status_code == 404  # not served: it would need a CDN


# -- request body cap --------------------------------------------------------------------------


def assert_too_large(response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "uploads" in error["message"] and str(MiB) in error["message"]


def test_oversized_json_with_content_length_is_413(edge):
    body = b'{"email": "' + b"a" * (2 * MiB) + b'", "password": "x"}'
    response = edge.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert_too_large(response)


def test_oversized_chunked_json_is_413(edge):
    def chunks():  # no Content-Length: the cap counts the streamed chunks
        yield b'{"email": "'
        for _ in range(3):
            yield b"a" * MiB

    response = edge.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response)


def test_oversized_form_is_413(edge):
    response = edge.post("/login", data={"email": "a" * (2 * MiB), "password": "x"})
    assert_too_large(response)


def test_body_limit_is_a_setting(tmp_path):
    with client_for(tmp_path, server={"max_body_bytes": 4096}) as client:
        small = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x" * 3000})
        big = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x" * 5000})
    assert small.status_code != 413
    assert big.status_code == 413 and "4096 bytes" in big.json()["error"]["message"]


def test_upload_parts_of_many_megabytes_still_stream_through(edge):
    store = edge.app.state.object_store
    upload_id = store.create_multipart("t/big.bin")
    part = bytes(range(256)) * (9 * MiB // 256)
    url = store.presign_part("t/big.bin", upload_id, 1)

    def chunks():  # chunked, like a client streaming a file from disk
        for start in range(0, len(part), MiB):
            yield part[start : start + MiB]

    response = edge.put(url, content=chunks())
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{hashlib.md5(part).hexdigest()}"'
    assert store.list_parts("t/big.bin", upload_id)[0].size == len(part)


# -- access log --------------------------------------------------------------------------------


def test_access_log_redacts_signed_url_secrets(capsys):
    logging.config.dictConfig(uvicorn_log_config())
    access = logging.getLogger("uvicorn.access")
    local = "/storage/o/t/a.txt?op=get&expires=1900000000&filename=r%C3%A9.txt&sig=c2VjcmV0LXNpZw"
    s3 = (
        "/bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101"
        "&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE&X-Amz-Signature=0123abcd&partNumber=2"
    )
    for target in (local, s3, "/api/v1/me?token=mtk_abcdefghij"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", target, "1.1", 200)
    printed = capsys.readouterr().out
    for secret in ["c2VjcmV0LXNpZw", "AKIAEXAMPLE", "FQoGZXIvYXdzEXAMPLE", "0123abcd", "mtk_"]:
        assert secret not in printed
    assert "sig=REDACTED" in printed and "X-Amz-Signature=REDACTED" in printed
    # What is not a secret stays readable.
    assert "/storage/o/t/a.txt?op=get&expires=1900000000&filename=r%C3%A9.txt" in printed
    assert "partNumber=2" in printed and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in printed
