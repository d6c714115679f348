"""Object key and prefix validation, shared by every backend.

A key is a relative, `/`-separated path of non-empty segments. Anything that could be read as
a different location by a file system or a URL parser (absolute paths, `.`/`..` segments,
backslashes, empty segments, control characters) is refused with `InvalidKeyError`, so a key
can never leave the prefix it is joined to.
"""

from __future__ import annotations

import re

from mantle.errors import InvalidKeyError

MAX_KEY_BYTES = 1024  # S3's limit; the file backend uses the same one so keys stay portable.


def _shown(key: str) -> str:
    """The key as it may appear in an error message: quoted and never huge."""
    text = repr(key)
    return text if len(text) <= 80 else text[:77] + "..."


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; surrogates cannot be UTF-8.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_characters(key: str, what: str) -> None:
    control = _CONTROL.search(key)
    if control:
        raise InvalidKeyError(
            f"{what} {_shown(key)} contains a control character (U+{ord(control.group()):04X})"
        )
    if "\\" in key:
        raise InvalidKeyError(f"{what} {_shown(key)} contains a backslash")
    if _SURROGATE.search(key):
        raise InvalidKeyError(f"{what} {_shown(key)} is not valid UTF-8")
    # UTF-8 needs at most 4 bytes a character: short keys need no encoding to be measured.
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8")) > MAX_KEY_BYTES:
        size = len(key.encode("utf-8"))
        raise InvalidKeyError(f"{what} is {size} bytes long; the limit is {MAX_KEY_BYTES}")


def _check_segments(key: str, what: str, *, trailing_slash: bool = False) -> None:
    if key.startswith("/"):
        raise InvalidKeyError(f"{what} {_shown(key)} is absolute; keys are relative paths")
    body = key[:-1] if trailing_slash and key.endswith("/") else key
    for segment in body.split("/"):
        if segment == "":
            raise InvalidKeyError(f"{what} {_shown(key)} has an empty path segment")
        if segment in (".", ".."):
            raise InvalidKeyError(f"{what} {_shown(key)} has a '{segment}' path segment")


def validate_key(key: object) -> str:
    """Return `key` unchanged if it is a safe object key, else raise `InvalidKeyError`."""
    if not isinstance(key, str):
        raise InvalidKeyError(f"object key must be a string, not {type(key).__name__}")
    if key == "":
        raise InvalidKeyError("object key must not be empty")
    _check_characters(key, "object key")
    _check_segments(key, "object key")
    return key


def validate_prefix(prefix: object) -> str:
    """Return a listing prefix unchanged if it is safe: empty, or a key optionally followed
    by one `/` (the last segment may be partial, e.g. `runs/2024-`)."""
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"prefix must be a string, not {type(prefix).__name__}")
    if prefix == "":
        return prefix
    _check_characters(prefix, "prefix")
    _check_segments(prefix, "prefix", trailing_slash=True)
    return prefix


def validate_scope(prefix: object) -> str:
    """Return a scope prefix ending in `/`: a scope is a folder, so `tenants/a` must not also
    cover `tenants/ab/...`."""
    prefix = validate_prefix(prefix)
    if prefix == "":
        raise InvalidKeyError("a scoped view needs a non-empty prefix")
    return prefix if prefix.endswith("/") else prefix + "/"


def validate_delimiter(delimiter: object) -> str | None:
    if delimiter is None:
        return None
    if not isinstance(delimiter, str) or delimiter == "":
        raise InvalidKeyError("delimiter must be a non-empty string or None")
    _check_characters(delimiter, "delimiter")
    return delimiter
