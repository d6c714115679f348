"""`UrlSigner`: what a signed URL grants, and that any change to it is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from pydantic import SecretStr

from mantle.errors import ConfigurationError, PermissionDeniedError
from mantle.storage import SIGNED_URL_PATH, UrlSigner

NOW = 1_700_000_000.0


def signer(secret: str = "s" * 40, now: float = NOW) -> UrlSigner:
    return UrlSigner(SecretStr(secret), "https://mantle.example.org/", clock=lambda: now)


def split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return unquote(parts.path.removeprefix(SIGNED_URL_PATH)), dict(parse_qsl(parts.query))


def test_url_shape_and_roundtrip() -> None:
    url = signer().url("part", "runs/1/out put.bin", expires_in=60, upload_id="u1", part_number=3)
    assert url.startswith("https://mantle.example.org/storage/o/runs/1/out%20put.bin?")
    key, query = split(url)
    assert query["op"] == "part" and query["expires"] == str(int(NOW) + 60)
    assert (query["upload_id"], query["part_number"]) == ("u1", "3")
    grant = signer().verify(key, query)
    assert (grant.op, grant.key, grant.upload_id, grant.part_number) == (
        "part",
        "runs/1/out put.bin",
        "u1",
        3,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("op", "put"),
        ("expires", str(int(NOW) + 10_000)),
        ("upload_id", "u2"),
        ("part_number", "4"),
        ("sig", "A" * 43),
        ("filename", "other.txt"),
        ("content_type", "text/html"),
    ],
)
def test_any_change_is_refused(field: str, value: str) -> None:
    key, query = split(signer().url("part", "k", expires_in=60, upload_id="u1", part_number=3))
    query[field] = value
    with pytest.raises(PermissionDeniedError):
        signer().verify(key, query)


def test_other_key_or_missing_field_is_refused() -> None:
    key, query = split(signer().url("get", "tenants/a/x", expires_in=60, filename="x.txt"))
    with pytest.raises(PermissionDeniedError, match="signature"):
        signer().verify("tenants/b/x", query)
    for field in ("filename", "sig", "op", "expires"):
        partial = {k: v for k, v in query.items() if k != field}
        with pytest.raises(PermissionDeniedError):
            signer().verify(key, partial)
    with pytest.raises(PermissionDeniedError, match="valid"):
        signer().verify(key, {**query, "expires": "soon"})


def test_expiry() -> None:
    key, query = split(signer().url("get", "k", expires_in=60))
    assert signer(now=NOW + 60).verify(key, query).key == "k"
    with pytest.raises(PermissionDeniedError, match="expired"):
        signer(now=NOW + 61).verify(key, query)


def test_another_secret_does_not_verify() -> None:
    key, query = split(signer("a" * 40).url("get", "k", expires_in=60))
    with pytest.raises(PermissionDeniedError):
        signer("b" * 40).verify(key, query)


def test_signing_key_is_derived_not_the_secret_itself() -> None:
    import base64
    import hashlib
    import hmac

    key, query = split(signer("a" * 40).url("get", "k", expires_in=60))
    grant = signer("a" * 40).verify(key, query)
    raw = hmac.new(b"a" * 40, grant.message(), hashlib.sha256).digest()
    assert query["sig"] != base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(("secret", "public_url"), [("", "http://x"), ("k", ""), ("k", "ftp://x")])
def test_configuration_is_checked(secret: str, public_url: str) -> None:
    with pytest.raises(ConfigurationError):
        UrlSigner(secret, public_url)
