"""Key, prefix and scope validation, without any backend."""

from __future__ import annotations

import re

import pytest

from mantle.errors import InvalidKeyError
from mantle.storage.keys import (
    MAX_KEY_BYTES,
    validate_delimiter,
    validate_key,
    validate_prefix,
    validate_scope,
)


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "a/b/c.txt",
        "with space/x",
        "é/ü/日本",
        ".hidden",
        "a/..b",
        "a/b..",
        "...",
        "~",
        "a:b",
        "x" * MAX_KEY_BYTES,
    ],
)
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("/a", "absolute"),
        ("a/", "empty path segment"),
        ("a//b", "empty path segment"),
        ("..", "'..'"),
        ("a/../b", "'..'"),
        ("./a", "'.'"),
        ("a\\b", "backslash"),
        ("a\x00b", "U+0000"),
        ("a\tb", "U+0009"),
        ("a\x85b", "U+0085"),
        ("x" * (MAX_KEY_BYTES + 1), "1024"),
        ("\udcff", "UTF-8"),
        (None, "string"),
        (b"bytes", "string"),
    ],
)
def test_invalid_keys(key, problem: str) -> None:
    with pytest.raises(InvalidKeyError, match=re.escape(problem)):
        validate_key(key)


def test_prefixes() -> None:
    for prefix in ["", "a", "a/", "a/b", "a/b/", "runs/2024-"]:
        assert validate_prefix(prefix) == prefix
    for prefix in ["/", "/a", "a//", "../", "a/..", "a\x00"]:
        with pytest.raises(InvalidKeyError):
            validate_prefix(prefix)


def test_scopes_are_folders() -> None:
    assert validate_scope("tenants/a") == "tenants/a/"
    assert validate_scope("tenants/a/") == "tenants/a/"
    for scope in ["", "/", "../x", "a//"]:
        with pytest.raises(InvalidKeyError):
            validate_scope(scope)


def test_delimiters() -> None:
    assert validate_delimiter(None) is None
    assert validate_delimiter("/") == "/"
    for bad in ["", "\x00", 5]:
        with pytest.raises(InvalidKeyError):
            validate_delimiter(bad)
