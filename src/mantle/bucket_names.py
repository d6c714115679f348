"""S3 bucket naming rules (AWS's rules for general purpose buckets), checked wherever Mantle
accepts a bucket name: environments' write and read buckets, the catalog's read buckets in
settings, and import requests. A name AWS would never accept is refused when it is entered,
with the rule it breaks, rather than failing later in a run or an import.

Pure code with no imports beyond the standard library, so settings and schemas can use it.
"""

from __future__ import annotations

import re

_CHARACTERS = re.compile(r"[a-z0-9.-]+")
# AWS refuses anything shaped like a dotted IPv4 address, valid octets or not.
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """The first AWS naming rule `name` breaks, or None for a valid bucket name."""
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long, not {len(name)}"
    if not _CHARACTERS.fullmatch(name):
        return "may contain only lowercase letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent dots"
    if _IP_ADDRESS.fullmatch(name):
        return "must not look like an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with '{prefix}' (reserved by AWS)"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with '{suffix}' (reserved by AWS)"
    return None


def check_bucket_name(name: str) -> str:
    """`name` unchanged if it is a valid S3 bucket name, else ValueError naming the broken
    rule (a ValueError, so pydantic validators report it as a 422 on the field)."""
    problem = bucket_name_problem(name)
    if problem is not None:
        shown = name if len(name) <= 70 else name[:67] + "..."
        raise ValueError(f"{shown!r} is not a valid S3 bucket name: it {problem}")
    return name
