"""Field types bounded to what the database can hold, for request bodies and parameters.

A value outside these bounds is the caller's mistake; catching it here answers 422 with the
field's name instead of letting the database fail mid-statement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT32_MAX = 2**31 - 1  # INTEGER columns: versions, dataset numbers, counters
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # BIGINT columns, and integers SQLite binds

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX, description="A version number (1, 2, ...)")]


def utc_instant(value: datetime) -> datetime:
    """An aware datetime, converted to UTC; one whose UTC form leaves years 1-9999 (such as
    9999-12-31T23:59-23:59) cannot be stored and is refused."""
    if value.tzinfo is None:
        raise ValueError("needs a timezone, e.g. 2027-01-01T00:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError as e:
        raise ValueError("out of range: a time between the years 1 and 9999 in UTC") from e


Instant = Annotated[datetime, AfterValidator(utc_instant)]
