"""S3 bucket names are checked against AWS's rules for general purpose buckets, and the
message names the rule a name breaks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mantle.bucket_names import bucket_name_problem, check_bucket_name
from mantle.settings import CatalogSettings


@pytest.mark.parametrize(
    "name", ["abc", "lab-raw", "lab.raw.2026", "a" * 63, "1st-bucket", "my-xn--bucket"]
)
def test_valid_names_pass(name):
    assert bucket_name_problem(name) is None
    assert check_bucket_name(name) == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "3 to 63 characters long, not 2"),
        ("a" * 64, "3 to 63 characters long, not 64"),
        ("Lab-Raw", "only lowercase letters, digits, dots and hyphens"),
        ("lab_raw", "only lowercase letters, digits, dots and hyphens"),
        ("lab raw", "only lowercase letters, digits, dots and hyphens"),
        ("-lab", "begin and end with a letter or digit"),
        ("lab.", "begin and end with a letter or digit"),
        ("a..b", "two adjacent dots"),
        ("192.168.1.1", "IP address"),
        ("999.0.0.1", "IP address"),
        ("xn--bucket", "start with 'xn--'"),
        ("sthree-bucket", "start with 'sthree-'"),
        ("amzn-s3-demo-bucket", "start with 'amzn-s3-demo-'"),
        ("data-s3alias", "end with '-s3alias'"),
        ("data--ol-s3", "end with '--ol-s3'"),
        ("data.mrap", "end with '.mrap'"),
        ("data--usw2-az1--x-s3", "end with '--x-s3'"),
        ("data--table-s3", "end with '--table-s3'"),
    ],
)
def test_invalid_names_say_which_rule(name, rule):
    assert rule in bucket_name_problem(name)
    with pytest.raises(ValueError, match="is not a valid S3 bucket name"):
        check_bucket_name(name)


def test_catalog_read_buckets_in_settings_are_checked():
    entries = ["lab-raw", "lab-raw/runs/", "s3://lab.raw/runs/", "file:///srv/data"]
    assert CatalogSettings(read_buckets=entries).read_buckets == entries
    for entry in ("192.168.1.1", "s3://a..b/runs", "Lab-Raw/runs"):
        with pytest.raises(ValidationError, match="not a valid S3 bucket name"):
            CatalogSettings(read_buckets=[entry])
