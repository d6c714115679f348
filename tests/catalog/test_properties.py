"""Property values against data type definitions: every property type, enums, required and
undeclared properties, and the checks on type definitions themselves. Pure code."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mantle.catalog.properties import check_definitions, validate_properties
from mantle.errors import InvalidInputError
from mantle.schemas.catalog import DataTypeCreate, PropertyDef


def prop(name, kind, **extra) -> PropertyDef:
    return PropertyDef(name=name, type=kind, **extra)


def check(defs, values, additional=False):
    return validate_properties(defs, additional, values, type_name="t")


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("string", "S1", "S1"),
        ("integer", 5, 5),
        ("integer", "42", 42),
        ("integer", 3.0, 3),
        ("float", 1, 1.0),
        ("float", "2.5", 2.5),
        ("boolean", True, True),
        ("boolean", "no", False),
        ("datetime", "2024-03-01", "2024-03-01T00:00:00.000000Z"),
        ("datetime", "2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00.000000Z"),
        ("file", "s3://b/k.fastq", "s3://b/k.fastq"),
        ("file_list", ["s3://b/1", "s3://b/2"], ["s3://b/1", "s3://b/2"]),
        ("dataset", "ds-42", "DS-000042"),
    ],
)
def test_each_type_coerces_to_its_stored_form(kind, given, stored):
    assert check([prop("p", kind)], {"p": given}) == {"p": stored}


@pytest.mark.parametrize(
    ("kind", "given", "message"),
    [
        ("string", 5, "expected a string"),
        ("string", "a\x00b", "NUL"),
        ("integer", "4.5", "expected an integer"),
        ("integer", True, "boolean"),
        ("float", "nan", "finite number"),
        ("float", False, "boolean"),
        ("boolean", "maybe", "true or false"),
        ("datetime", "yesterday", "ISO 8601"),
        ("file_list", "s3://b/1", "expected a list"),
        ("dataset", "42", "DS-000042"),
    ],
)
def test_wrong_values_are_refused_naming_the_property(kind, given, message):
    with pytest.raises(InvalidInputError, match=f"property 'p': .*{message}") as caught:
        check([prop("p", kind)], {"p": given})
    assert caught.value.details[0]["property"] == "p"


def test_lists_check_every_item_and_enums_apply_to_items():
    defs = [prop("lanes", "list", items="integer", enum=[1, 2, 3, 4])]
    assert check(defs, {"lanes": ["1", 2]}) == {"lanes": [1, 2]}
    with pytest.raises(InvalidInputError, match="5 is not one of"):
        check(defs, {"lanes": [1, 5]})
    assert check([prop("names", "list")], {"names": ["a"]}) == {"names": ["a"]}  # default str


def test_enum_required_and_undeclared():
    defs = [prop("kind", "string", enum=["wgs", "rna"]), prop("sample", "string", required=True)]
    assert check(defs, {"kind": "rna", "sample": "S"}) == {"kind": "rna", "sample": "S"}
    with pytest.raises(InvalidInputError) as caught:
        check(defs, {"kind": "dna", "extra": 1})
    problems = {e["property"]: e["msg"] for e in caught.value.details}
    assert "not one of" in problems["kind"] and problems["sample"] == "required"
    assert "not a property of data type 't'" in problems["extra"]
    assert "(and 2 more)" in caught.value.message


def test_additional_properties_are_kept_when_the_type_allows_them():
    assert check([], {"anything": {"x": 1}}, additional=True) == {"anything": {"x": 1}}
    with pytest.raises(InvalidInputError, match="property 'bad name'"):
        check([], {"bad name": 1}, additional=True)


@pytest.mark.parametrize("name", ["sample\n", "sample\r\n", "\nsample"])
def test_names_with_a_newline_are_refused(name):
    with pytest.raises(InvalidInputError, match="names are letters, digits and _"):
        check([], {name: 1}, additional=True)
    with pytest.raises(ValidationError):
        PropertyDef(name=name, type="string")
    with pytest.raises(ValidationError):
        DataTypeCreate(name=name)


def test_null_means_absent():
    assert check([prop("x", "string")], {"x": None}) == {}


@pytest.mark.parametrize(
    ("defs", "message"),
    [
        ([prop("a", "string"), prop("a", "integer")], "declared twice"),
        ([prop("a", "string", items="string")], "only a list property"),
        ([prop("a", "list", items="file_list")], "cannot hold lists"),
        ([prop("a", "boolean", enum=["x"])], "take an enum"),
        ([prop("a", "integer", enum=["x"])], "enum: expected an integer"),
    ],
)
def test_type_definitions_are_checked(defs, message):
    with pytest.raises(InvalidInputError, match=message):
        check_definitions(defs)
