"""Property values checked against a data type's definitions: coercion per property type
(strings from the CLI or a CSV become numbers, booleans, canonical datetimes), enums,
required properties, undeclared ones. Pure code: no database, no object store.

Errors are collected, not raised one at a time, so a user sees every bad property at once;
`raise_if_any` turns them into one 422 whose message names the first property.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mantle.errors import InvalidInputError
from mantle.schemas.bounds import INT64_MAX, INT64_MIN, utc_instant
from mantle.schemas.catalog import PROPERTY_NAME_PATTERN, PropertyDef, PropertyType

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: text order is time order
# Dataset numbers are INTEGER columns: nine digits stay below 2**31.
DATASET_REF = re.compile(r"^DS-(\d{1,9})$", re.IGNORECASE)
MAX_STRING = 10_000
MAX_LIST = 10_000
_PROPERTY_NAME = re.compile(PROPERTY_NAME_PATTERN)
_INTEGER_TEXT = re.compile(r"\s*[-+]?\d{1,30}\s*")  # longer is out of range anyway


class PropertyValueError(ValueError):
    pass


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise PropertyValueError(f"expected a string, got {_kind(value)}")
    if len(value) > MAX_STRING:
        raise PropertyValueError(f"longer than {MAX_STRING} characters")
    if "\x00" in value:
        raise PropertyValueError("contains a NUL character")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise PropertyValueError("expected an integer, got a boolean")
    whole_float = isinstance(value, float) and value.is_integer()
    if whole_float or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value)):
        value = int(value)
    if not isinstance(value, int):
        raise PropertyValueError(f"expected an integer, got {_kind(value)}")
    return check_int64(value)


def check_int64(value: int) -> int:
    """Integers are stored and compared as 64-bit (SQLite's limit, and what JSON readers keep
    exactly); larger ones are refused rather than rounded."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise PropertyValueError("integers must be between -2**63 and 2**63-1")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise PropertyValueError("expected a number, got a boolean")
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise PropertyValueError(f"expected a finite number, got {_kind(value)}")
    return number


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise PropertyValueError(f"expected true or false, got {_kind(value)}")


def canonical_datetime(value: Any) -> str:
    """ISO 8601 in, fixed-width UTC out; a date means midnight UTC, no offset means UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as e:
            raise PropertyValueError(f"expected an ISO 8601 date or time, got {value!r}") from e
    else:
        raise PropertyValueError(f"expected an ISO 8601 date or time, got {_kind(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return utc_instant(moment).strftime(DATETIME_FORMAT)
    except ValueError as e:
        raise PropertyValueError(f"{e}, got {value!r}"[:200]) from e


def _dataset_ref(value: Any) -> str:
    """A reference is stored as a short id; existence is checked by the dataset service."""
    text = _string(value).strip()
    match = DATASET_REF.fullmatch(text)
    if match is not None:
        return format_short_id(int(match.group(1)))
    try:
        return str(uuid.UUID(text))  # the service swaps it for the short id
    except ValueError as e:
        raise PropertyValueError(f"expected a dataset id like DS-000042, got {text!r}") from e


def _file_uri(value: Any) -> str:
    # Where the URI may point is checked by the dataset service (it knows the tenant).
    return _string(value).strip()


SCALARS: dict[PropertyType, Callable[[Any], Any]] = {
    PropertyType.string: _string,
    PropertyType.integer: _integer,
    PropertyType.float: _float,
    PropertyType.boolean: _boolean,
    PropertyType.datetime: canonical_datetime,
    PropertyType.file: _file_uri,
    PropertyType.dataset: _dataset_ref,
}
LIST_ITEMS = {PropertyType.file_list: PropertyType.file}
ENUM_TYPES = {PropertyType.string, PropertyType.integer, PropertyType.float}


def format_short_id(number: int) -> str:
    return f"DS-{number:06d}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string" if len(value) > 40 else f"{value!r}"
    return "a list" if isinstance(value, list) else "an object"


def item_type(definition: PropertyDef) -> PropertyType | None:
    """The element type of a list-valued property, or None for a scalar one."""
    if definition.type is PropertyType.list:
        return definition.items or PropertyType.string
    return LIST_ITEMS.get(definition.type)


def coerce_value(definition: PropertyDef, value: Any) -> Any:
    """The stored form of `value`, or PropertyValueError saying what is wrong with it."""
    items = item_type(definition)
    if items is None:
        return _check_enum(definition, SCALARS[definition.type](value))
    if not isinstance(value, list):
        raise PropertyValueError(f"expected a list, got {_kind(value)}")
    if len(value) > MAX_LIST:
        raise PropertyValueError(f"more than {MAX_LIST} items")
    return [_check_enum(definition, SCALARS[items](item)) for item in value]


def coerce_scalar(definition: PropertyDef, value: Any) -> Any:
    """One value of the property (an element for list types), as filters compare it."""
    kind = item_type(definition) or definition.type
    return SCALARS[kind](value)


def _check_enum(definition: PropertyDef, value: Any) -> Any:
    if definition.enum is not None and value not in definition.enum:
        allowed = ", ".join(str(v) for v in definition.enum[:20])
        raise PropertyValueError(f"{value!r} is not one of: {allowed}")
    return value


@dataclass
class PropertyErrors:
    errors: list[dict] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.errors.append({"loc": ["properties", name], "property": name, "msg": message})

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        raise InvalidInputError(
            f"property '{first['property']}': {first['msg']}{more}", details=self.errors
        )


def validate_properties(
    definitions: list[PropertyDef],
    additional: bool,
    values: dict[str, Any],
    *,
    type_name: str,
) -> dict[str, Any]:
    """The properties as stored, or InvalidInputError (422) naming every bad property."""
    errors = PropertyErrors()
    declared = {d.name: d for d in definitions}
    clean: dict[str, Any] = {}
    for definition in definitions:
        value = values.get(definition.name)
        if value is None:
            if definition.required:
                errors.add(definition.name, "required")
            continue
        try:
            clean[definition.name] = coerce_value(definition, value)
        except PropertyValueError as e:
            errors.add(definition.name, str(e))
    for name, value in values.items():
        if name in declared or value is None:
            continue
        if not additional:
            errors.add(name, f"not a property of data type '{type_name}'")
        elif not _PROPERTY_NAME.fullmatch(name):
            errors.add(name, "names are letters, digits and _, not starting with a digit")
        else:
            clean[name] = value
    errors.raise_if_any()
    return clean


def check_definitions(definitions: list[PropertyDef]) -> None:
    """A data type's own schema must make sense: unique names, items only on lists, enums
    only on strings and numbers and made of valid values."""
    errors = PropertyErrors()
    seen: set[str] = set()
    for d in definitions:
        if d.name in seen:
            errors.add(d.name, "declared twice")
        seen.add(d.name)
        if d.items is not None and d.type is not PropertyType.list:
            errors.add(d.name, "only a list property has `items`")
        if d.items in (PropertyType.list, PropertyType.file_list):
            errors.add(d.name, "a list cannot hold lists")
        kind = item_type(d) or d.type
        if d.enum is not None:
            if kind not in ENUM_TYPES:
                errors.add(d.name, "only string, integer and float properties take an enum")
                continue
            try:
                d.enum = [SCALARS[kind](v) for v in d.enum]
            except PropertyValueError as e:
                errors.add(d.name, f"enum: {e}")
    errors.raise_if_any()
