"""Output rules: which files a run published become which datasets, with properties taken
from their paths. No edits to a pipeline are needed for its outputs to become datasets.

Pure and deterministic: the same rules and files always give the same groups in the same
order (by rule, then by the first file's path), so an ingest that is retried after a crash
makes the same datasets. Globs and user patterns run on RE2 with the import engine's limits
(`import_syntax`), since users write them and paths can be long.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mantle import import_syntax
from mantle.rundir import OutputFile
from mantle.schemas.pipelines import OutputRule

__all__ = ["OutputGroup", "OutputRule", "glob_pattern", "match_outputs", "parse_rules"]


@dataclass
class OutputGroup:
    data_type: str
    name: str
    properties: dict[str, Any]
    files: list[OutputFile]
    rule: int = field(default=0)  # index of the rule that matched


def parse_rules(rules: Iterable[OutputRule | Mapping[str, Any]]) -> list[OutputRule]:
    """Rules as stored (dicts in `SqlPipelineVersion.output_rules`) or as models."""
    return [r if isinstance(r, OutputRule) else OutputRule.model_validate(r) for r in rules]


def _glob_regex(glob: str) -> str:
    out, i = ["^"], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(r"\[")
            else:
                body = glob[i + 1 : end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append("\\" + c if not c.isalnum() and c not in "/_" else c)
        i += 1
    out.append("$")
    return "".join(out)


@functools.lru_cache(maxsize=512)
def glob_pattern(glob: str) -> import_syntax.Pattern:
    """`glob` (`*`, `?`, `[...]`, `**`) as an RE2 pattern over a whole "/"-separated path."""
    try:
        return import_syntax.compile_pattern(_glob_regex(glob))
    except ValueError as e:
        raise ValueError(f"glob {glob[:80]!r}: {e}") from e


@functools.lru_cache(maxsize=512)
def _user_pattern(pattern: str) -> import_syntax.Pattern:
    return import_syntax.compile_pattern(pattern)


def _fields(path: str, groups: dict[str, str]) -> dict[str, str]:
    folder, file = posixpath.split(path)
    stem = file.split(".", 1)[0] if not file.startswith(".") else file
    return {"path": path, "file": file, "stem": stem, "folder": folder, **groups}


def _match(rule: OutputRule, path: str) -> dict[str, str] | None:
    if import_syntax.search(glob_pattern(rule.glob), path) is None:
        return None
    if rule.pattern is None:
        return _fields(path, {})
    groups = import_syntax.search(_user_pattern(rule.pattern), path)
    return None if groups is None else _fields(path, groups)


def _properties(rule: OutputRule, fields: dict[str, str]) -> dict[str, Any]:
    builtin = {"path", "file", "stem", "folder"}
    found: dict[str, Any] = {k: v for k, v in fields.items() if k not in builtin}
    for key, value in rule.properties.items():
        found[key] = import_syntax.render(value, fields) if isinstance(value, str) else value
    return found


def match_outputs(
    rules: Iterable[OutputRule | Mapping[str, Any]], files: list[OutputFile]
) -> list[OutputGroup]:
    """The datasets `files` make under `rules`: each file through the first rule matching
    it; files a rule's `group_by` gives the same value share one group. Files no rule
    matches are left out."""
    parsed = parse_rules(rules)
    groups: dict[tuple[int, str], OutputGroup] = {}
    for file in sorted(files, key=lambda f: f.path):
        for index, rule in enumerate(parsed):
            fields = _match(rule, file.path)
            if fields is None:
                continue
            key = import_syntax.render(rule.group_by, fields) if rule.group_by else file.path
            group = groups.get((index, key))
            if group is None:
                default = key if rule.group_by else fields["file"]
                name = import_syntax.render(rule.name, fields) if rule.name else default
                group = OutputGroup(
                    data_type=rule.data_type,
                    name=name or fields["file"],
                    properties=_properties(rule, fields),
                    files=[],
                    rule=index,
                )
                groups[(index, key)] = group
            group.files.append(file)
            break
    return sorted(groups.values(), key=lambda g: (g.rule, g.files[0].path))
