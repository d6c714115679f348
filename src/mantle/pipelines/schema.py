"""Pipeline parameters: nf-core `nextflow_schema.json` read into the launch form's shape, and
params validated against it before anything is submitted.

nf-core schemas come in two dialects: draft-07 (`definitions` + `allOf` of `$ref`s, nf-validation
and nf-core tools up to 2.x) and 2020-12 (`$defs`, nf-schema 2). Both are JSON Schema, so
`jsonschema` validates the document as it is; only the form needs the groups picked out. A
script pipeline's params are a plain object schema, which reads as a single group.

Patterns are matched with RE2, not Python's backtracking `re`: a schema comes from whoever
registered the pipeline, and `(a+)+$` must not freeze the server on a long value.

Unknown params (not declared by the schema) are accepted and listed, as Nextflow does with a
warning; nf-schema fails on them only when configured to (`validation.failUnrecognisedParams`).
A schema that says `additionalProperties: false` at the top level refuses them.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import re2
from jsonschema import Draft7Validator, ValidationError, validators
from referencing.exceptions import Unresolvable

from mantle.errors import InvalidInputError
from mantle.import_syntax import compile_pattern

PARAM_FIELDS = (
    "type", "description", "help_text", "default", "enum", "hidden", "format", "mimetype",
    "pattern", "schema", "minimum", "maximum", "fa_icon", "errorMessage", "exists",
    # What a form needs to check a value before it is sent (the server checks it again).
    "minLength", "maxLength", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
)  # fmt: skip
MAX_REPORTED = 50
# PostgreSQL's JSONB does not keep the order of an object's keys, and a launch form (or a
# samplesheet's columns) must keep the author's order: it is recorded next to `properties`
# under this keyword, which JSON Schema validators ignore.
ORDER_KEY = "x-mantle-order"


def keep_order(schema: Any) -> Any:
    """A copy of `schema` where every object with `properties` lists their names in order."""
    if isinstance(schema, list):
        return [keep_order(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: keep_order(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict):
        copied[ORDER_KEY] = list(schema["properties"])
    return copied


def ordered_properties(schema: dict) -> list[tuple[str, Any]]:
    """`schema`'s properties in the author's order (see `keep_order`)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    order = schema.get(ORDER_KEY)
    if not isinstance(order, list):
        return list(properties.items())
    known = [name for name in order if name in properties]
    rest = [name for name in properties if name not in set(known)]
    return [(name, properties[name]) for name in known + rest]


@functools.lru_cache(maxsize=256)
def _re2(pattern: str):
    return compile_pattern(pattern)


def _re2_pattern(validator, pattern: str, instance: Any, schema: dict):
    """JSON Schema's `pattern`, matched by RE2 (an unsearchable pattern is a bad schema)."""
    if not validator.is_type(instance, "string"):
        return
    try:
        compiled = _re2(pattern)
    except ValueError as e:
        yield ValidationError(f"the schema's pattern {pattern[:80]!r} is {e}")
        return
    if len(instance) > 100_000 or compiled.search(instance) is None:
        yield ValidationError(f"{instance[:100]!r} does not match {pattern!r}")


@functools.cache
def _validator_class(base: type) -> type:
    return validators.extend(base, {"pattern": _re2_pattern})


def validator_for(schema: dict) -> jsonschema.protocols.Validator:
    """A validator for `schema` in its own dialect (draft-07 when it names none), with
    RE2 patterns; InvalidInputError when `schema` is not a valid JSON Schema."""
    base = validators.validator_for(schema, default=Draft7Validator)
    try:
        base.check_schema(schema)
    except jsonschema.SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise InvalidInputError(f"not a valid JSON Schema at {where}: {e.message}") from e
    return _validator_class(base)(schema)


def check_patterns(schema: Any, where: str = "") -> None:
    """Refuse a schema with a `pattern` RE2 cannot run (or too costly to run)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                try:
                    _re2(value)
                except ValueError as e:
                    raise InvalidInputError(f"{where or 'schema'}: pattern {e}") from e
            else:
                check_patterns(value, f"{where}/{key}" if where else key)
    elif isinstance(schema, list):
        for item in schema:
            check_patterns(item, where)


def check_schema(schema: dict) -> None:
    """Refuse a params schema that cannot validate anything (at registration)."""
    if not isinstance(schema, dict):
        raise InvalidInputError("nextflow_schema.json: the top level must be a JSON object")
    validator_for(schema)
    check_patterns(schema)
    for name, group in _referenced_groups(schema):
        if group is None:
            raise InvalidInputError(f"nextflow_schema.json: $ref {name!r} points nowhere")


# --- the launch form ------------------------------------------------------------------------


def _definitions(schema: dict) -> dict[str, Any]:
    return schema.get("$defs") or schema.get("definitions") or {}


def _referenced_groups(schema: dict) -> list[tuple[str, dict | None]]:
    """(name, group) for each `allOf: [{$ref: ...}]` entry, in order."""
    found = []
    defs = _definitions(schema)
    for entry in schema.get("allOf") or []:
        ref = entry.get("$ref") if isinstance(entry, dict) else None
        if not isinstance(ref, str):
            continue
        for prefix in ("#/$defs/", "#/definitions/"):
            if ref.startswith(prefix):
                name = ref.removeprefix(prefix)
                found.append((name, defs.get(name)))
                break
        else:
            found.append((ref, None))
    return found


def _param(name: str, spec: dict, required: set[str]) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name}
    for key in PARAM_FIELDS:
        if key in spec:
            param[key] = spec[key]
    if isinstance(param.get("type"), list):  # ["string", "null"]: the form shows the first
        param["type"] = next((t for t in param["type"] if t != "null"), "string")
    param["hidden"] = bool(spec.get("hidden", False))
    param["required"] = name in required
    return param


def _group(name: str, group: dict, *, title: str | None = None) -> dict[str, Any]:
    required = set(group.get("required") or [])
    return {
        "name": name,
        "title": group.get("title") or title or name.replace("_", " ").capitalize(),
        "description": group.get("description", ""),
        "icon": group.get("fa_icon", ""),
        "params": [
            _param(n, spec, required)
            for n, spec in ordered_properties(group)
            if isinstance(spec, dict)
        ],
    }


def normalize(schema: dict) -> dict[str, Any]:
    """The launch form: `{title, description, groups: [{name, title, description, icon,
    params: [{name, type, default, enum, hidden, format, mimetype, pattern, help_text,
    schema, required, ...}]}]}`; params outside any group come last, as "Other parameters"."""
    groups = [
        _group(name, group)
        for name, group in _referenced_groups(schema)
        if isinstance(group, dict) and group.get("properties")
    ]
    if schema.get("properties"):
        loose = _group("parameters", schema, title="Other parameters" if groups else "Parameters")
        groups.append(loose)
    return {
        "title": schema.get("title", ""),
        "description": schema.get("description", ""),
        "groups": groups,
    }


def declared_params(schema: dict) -> dict[str, dict]:
    """Every param the schema declares, by name, with its definition."""
    found: dict[str, dict] = {}
    for group in normalize(schema)["groups"]:
        for param in group["params"]:
            found.setdefault(param["name"], param)
    return found


# --- validation -----------------------------------------------------------------------------


@dataclass
class CheckedParams:
    params: dict[str, Any]
    unknown: list[str] = field(default_factory=list)


def _problem(error: ValidationError) -> list[dict[str, str]]:
    """One entry per param an error is about: a failed `required` names the missing ones."""
    path = [str(p) for p in error.absolute_path]
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    message = custom if isinstance(custom, str) else error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        prefix = ".".join(path) + "." if path else ""
        return [
            {"param": prefix + n, "rule": "required", "message": f"'{n}' is required"}
            for n in missing
        ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(
            (error.schema.get("properties") or {}) if isinstance(error.schema, dict) else ()
        )
        prefix = ".".join(path) + "." if path else ""
        return [
            {"param": prefix + n, "rule": "additionalProperties",
             "message": f"'{n}' is not a param of this pipeline"}
            for n in error.instance
            if n not in allowed
        ]  # fmt: skip
    return [{"param": ".".join(path), "rule": str(error.validator), "message": message}]


def check_params(params_schema: dict, params: dict[str, Any]) -> CheckedParams:
    """`params` with the schema's defaults added, and the names the schema does not declare;
    InvalidInputError naming each bad param and the rule it broke."""
    if not isinstance(params, dict):
        raise InvalidInputError("params: must be a JSON object of param names and values")
    declared = declared_params(params_schema)
    applied = copy.deepcopy(params)
    for name, spec in declared.items():
        if name not in applied and "default" in spec and spec["default"] is not None:
            applied[name] = copy.deepcopy(spec["default"])
    if not params_schema:
        return CheckedParams(applied, [])
    validator = validator_for(params_schema)
    try:
        errors = sorted(validator.iter_errors(applied), key=lambda e: list(e.absolute_path))
        problems = [p for e in errors for p in _problem(e)]
    except Unresolvable as e:
        raise InvalidInputError(f"the pipeline's params schema has a broken $ref: {e}") from e
    except re2.error as e:  # pragma: no cover - patterns are checked at registration
        raise InvalidInputError(f"the pipeline's params schema: {e}") from e
    if problems:
        shown = "; ".join(
            f"{p['param']}: {p['message']} ({p['rule']})" if p["param"] else p["message"]
            for p in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InvalidInputError(f"invalid params: {shown}{more}", details=problems[:MAX_REPORTED])
    unknown = sorted(n for n in applied if n not in declared)
    return CheckedParams(applied, unknown)


def validate_params(params_schema: dict, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with defaults applied, validated against the pipeline's schema (see
    `check_params`, which also lists params the schema does not declare)."""
    return check_params(params_schema, params).params
