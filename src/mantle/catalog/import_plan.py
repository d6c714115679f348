"""Turning bucket listings into planned datasets: pure code, no I/O.

`ImportPlan` checks an import spec against its data type once, then matches each listed
object (`match`) and builds a dataset from the objects that share a key (`build`). The spec's
syntax (RE2 patterns, plain `{field}` templates) was checked when it was accepted
(`ImportCreate`); see `mantle.import_syntax`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mantle import import_syntax
from mantle.errors import InvalidInputError
from mantle.schemas.catalog import PropertyDef, PropertyType
from mantle.schemas.imports import FILES_ROLE, ImportCreate

FILE_TYPES = (PropertyType.file, PropertyType.file_list)
# Matching time one plan may spend in all, a safety net under RE2's linear time: realistic
# patterns cost microseconds a key, so only a pathological spec ever reaches it.
PREVIEW_MATCH_SECONDS = 10.0  # a preview runs while the user waits
IMPORT_MATCH_SECONDS = 600.0


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
    def __init__(
        self,
        spec: ImportCreate,
        definitions: list[PropertyDef],
        match_seconds: float = IMPORT_MATCH_SECONDS,
    ) -> None:
        self.spec = spec
        self.prefix = spec.prefix
        self._defs = {d.name: d for d in definitions}
        self._patterns = {role: self._compile(role, rx) for role, rx in spec.patterns.items()}
        self._template = spec.name_template
        self._match_seconds = match_seconds
        self._matched_keys = 0
        self._spent = 0.0

    def _compile(self, role: str, pattern: str) -> import_syntax.Pattern:
        definition = self._defs.get(role)
        if role != FILES_ROLE and (definition is None or definition.type not in FILE_TYPES):
            names = sorted(n for n, d in self._defs.items() if d.type in FILE_TYPES)
            raise InvalidInputError(
                f"patterns: '{role}' is not a file property of {self.spec.data_type} "
                f"(use {', '.join([*names, FILES_ROLE])})"
            )
        try:
            return import_syntax.compile_pattern(pattern)
        except ValueError as e:
            raise InvalidInputError(f"patterns.{role}: {e}") from e

    def match(self, key: str, size: int, etag: str) -> MatchedObject | None:
        started = time.monotonic()
        found = self._match(key, size, etag)
        self._spent += time.monotonic() - started
        self._matched_keys += 1
        if self._spent > self._match_seconds:
            raise InvalidInputError(
                f"patterns: matching took over {self._match_seconds:g} s in all (after "
                f"{self._matched_keys} keys); simplify the patterns"
            )
        return found

    def _match(self, key: str, size: int, etag: str) -> MatchedObject | None:
        relative = key[len(self.prefix) :] if key.startswith(self.prefix) else key
        for role, pattern in self._patterns.items():
            fields = import_syntax.search(pattern, relative)
            if fields is not None:
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
            is_template = isinstance(value, str)
            properties[name] = import_syntax.render(value, fields) if is_template else value
        name = import_syntax.render(self._template, fields) if self._template else ""
        planned = PlannedDataset(
            group=group,
            name=name or members[0].key,
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
