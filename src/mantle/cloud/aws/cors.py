"""Bucket CORS rules for the web UI's origin (pure), and the test the doctor applies to a
bucket's live rules. The write bucket takes GET/PUT/POST and exposes `ETag`, without which a
browser cannot read part ETags and so cannot complete a multipart upload; read buckets GET."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

WRITE_METHODS = ("GET", "PUT", "POST")
READ_METHODS = ("GET",)
EXPOSED_HEADERS = ("ETag",)
MAX_AGE_SECONDS = 3000


def origin_of(public_url: str) -> str:
    """`https://mantle.example.com/some/path` -> `https://mantle.example.com`."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}"


def rules(origin: str, methods: tuple[str, ...]) -> dict[str, Any]:
    """`PutBucketCors`'s CORSConfiguration (the file `aws s3api put-bucket-cors` takes)."""
    return {
        "CORSRules": [
            {
                # Presigned browser requests carry content and x-amz-* headers that vary by
                # SDK and request; headers grant no access, so listing them buys nothing.
                "AllowedHeaders": ["*"],
                "AllowedMethods": list(methods),
                "AllowedOrigins": [origin],
                "ExposeHeaders": list(EXPOSED_HEADERS) if "PUT" in methods else [],
                "MaxAgeSeconds": MAX_AGE_SECONDS,
            }
        ]
    }


def missing(
    live_rules: list[dict[str, Any]], origin: str, methods: tuple[str, ...], *, etag: bool
) -> list[str]:
    """What the live rules fail to allow: methods for `origin`, and `ETag` on PUT if asked."""
    problems = []
    for method in methods:
        if not any(_allows(rule, origin, method) for rule in live_rules):
            problems.append(f"{method} from {origin}")
    if etag:
        put_rules = [r for r in live_rules if _allows(r, origin, "PUT")]
        if put_rules and not any(_exposes_etag(r) for r in put_rules):
            problems.append("exposing the ETag header")
    return problems


def _allows(rule: dict[str, Any], origin: str, method: str) -> bool:
    origins = rule.get("AllowedOrigins", [])
    # S3 accepts one `*` wildcard in an allowed origin, e.g. https://*.example.com.
    return method in rule.get("AllowedMethods", []) and any(
        fnmatchcase(origin, allowed) for allowed in origins
    )


def _exposes_etag(rule: dict[str, Any]) -> bool:
    return any(h.lower() == "etag" for h in rule.get("ExposeHeaders", []))
