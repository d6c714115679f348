"""Turning bucket listings into planned datasets: pure code, no I/O.

`ImportPlan` checks an import spec against its data type once, then matches each listed
object (`match`) and builds a dataset from the objects that share a key (`build`).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from mantle.errors import InvalidInputError
from mantle.schemas.catalog import PropertyDef, PropertyType
from mantle.schemas.imports import FILES_ROLE, ImportCreate

FILE_TYPES = (PropertyType.file, PropertyType.file_list)


@dataclass(frozen=True)
class MatchedObject:
    key: str  # the full key in the bucket
    size: int
    etag: str
    role: str  # the file property it fills, or "files"
    group: str  # the dataset it belongs to
    fields: dict[str, str]


@dataclass
class PlannedDataset:
    group: str
    name: str
    properties: dict[str, Any]
    files: list[MatchedObject]
    problems: list[str] = field(default_factory=list)


class ImportPlan:
    def __init__(self, spec: ImportCreate, definitions: list[PropertyDef]) -> None:
        self.spec = spec
        self.prefix = spec.prefix
        self._defs = {d.name: d for d in definitions}
        self._patterns = {role: self._compile(role, rx) for role, rx in spec.patterns.items()}
        self._template = spec.name or ("{" + spec.key + "}" if spec.key else None)
        _check_template(self._template, self._patterns, spec)
        for value in spec.properties.values():
            if isinstance(value, str):
                _check_template(value, self._patterns, spec)

    def _compile(self, role: str, pattern: str) -> re.Pattern:
        definition = self._defs.get(role)
        if role != FILES_ROLE and (definition is None or definition.type not in FILE_TYPES):
            names = sorted(n for n, d in self._defs.items() if d.type in FILE_TYPES)
            raise InvalidInputError(
                f"patterns: '{role}' is not a file property of {self.spec.data_type} "
                f"(use {', '.join([*names, FILES_ROLE])})"
            )
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            raise InvalidInputError(f"patterns.{role}: not a valid regular expression: {e}") from e
        if self.spec.key and self.spec.key not in compiled.groupindex:
            raise InvalidInputError(
                f"patterns.{role}: needs a named group (?P<{self.spec.key}>...) for the key"
            )
        return compiled

    def match(self, key: str, size: int, etag: str) -> MatchedObject | None:
        relative = key[len(self.prefix) :] if key.startswith(self.prefix) else key
        for role, pattern in self._patterns.items():
            found = pattern.search(relative)
            if found:
                fields = {k: v for k, v in found.groupdict().items() if v is not None}
                group = fields.get(self.spec.key, "") if self.spec.key else key
                if group:
                    return MatchedObject(key, size, etag, role, group, fields)
        return None

    def build(self, group: str, members: list[MatchedObject], bucket_uri: str) -> PlannedDataset:
        fields: dict[str, str] = {}
        for member in members:
            fields.update(member.fields)
        properties = {
            name: value
            for name, value in fields.items()
            if name in self._defs and self._defs[name].type not in FILE_TYPES
        }
        for name, value in self.spec.properties.items():
            properties[name] = value.format_map(fields) if isinstance(value, str) else value
        planned = PlannedDataset(
            group=group,
            name=self._template.format_map(fields) if self._template else members[0].key,
            properties=properties,
            files=sorted(members, key=lambda m: m.key),
        )
        self._fill_file_properties(planned, bucket_uri)
        return planned

    def _fill_file_properties(self, planned: PlannedDataset, bucket_uri: str) -> None:
        for role in self._patterns:
            if role == FILES_ROLE:
                continue
            uris = [bucket_uri + m.key for m in planned.files if m.role == role]
            if self._defs[role].type is PropertyType.file_list:
                planned.properties[role] = uris
            elif len(uris) == 1:
                planned.properties[role] = uris[0]
            elif not uris:
                planned.problems.append(f"no object for {role}")
            else:
                planned.problems.append(f"{len(uris)} objects for {role}, expected one")


def _check_template(template: str | None, patterns: dict[str, re.Pattern], spec) -> None:
    if template is None:
        return
    groups = set.intersection(*(set(p.groupindex) for p in patterns.values()))
    try:
        names = {f for _text, f, _spec, _conv in string.Formatter().parse(template) if f}
    except ValueError as e:
        raise InvalidInputError(f"template {template!r}: {e}") from e
    unknown = sorted(names - groups)
    if unknown:
        raise InvalidInputError(
            f"template {template!r} uses {', '.join(unknown)}, which not every pattern captures"
        )
