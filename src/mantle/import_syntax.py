"""What a user may write in an import spec: key patterns and name templates.

Key patterns are regular expressions searched in every object key an import lists. They are
compiled with RE2, whose matching time grows linearly with the key: Python's backtracking
`re` would spend hours on `(a+)+$` against a long key while holding the GIL, freezing the
server and the worker. RE2 has no backreferences or lookarounds; a pattern that uses them is
refused with RE2's reason. RE2's cost per character grows with the size of the compiled
program (counted repetitions such as `.{500}` blow it up), so patterns are bounded in length
and program size, keys longer than S3 allows are never matched, and the import plan stops a
scan whose matching takes too long in total (`catalog/import_plan.py`).

Name templates (the dataset name, string property values) allow plain `{field}` substitution
and `{{`/`}}` escapes only: format specs, conversions, positional fields and attribute or
index access (`{sample:>30000000}`, `{sample!r}`, `{0}`, `{sample.x}`) are refused.

Pure code: used by the request schema (`schemas/imports.py`, the API's edge) and by the
import plan (`catalog/import_plan.py`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping

import re2

MAX_PATTERN_CHARS = 1000
# Real key patterns compile to well under 100 instructions; 500 leaves room and keeps a
# 1 KiB key to about a millisecond at worst.
MAX_PROGRAM_SIZE = 500
MAX_PATTERNS = 20
MAX_KEY_CHARS = 1024  # S3 keys are at most 1024 bytes, so never more characters
_PLAIN_TEMPLATE_HINT = "use a plain {field}, or {{ and }} for literal braces"


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the user's error, not a log line
    return options


# re2 has no public name for its compiled pattern class.
Pattern = re2._Regexp


def compile_pattern(pattern: str) -> Pattern:
    """`pattern` compiled with RE2, or ValueError saying why it cannot be."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}")
    try:
        compiled = re2.compile(pattern, _options())
    except re2.error as e:
        reason = e.args[0].decode(errors="replace") if e.args else "not a valid pattern"
        raise ValueError(
            f"not a regular expression the import engine (RE2) accepts: {reason}; "
            "backreferences and lookarounds are not supported"
        ) from e
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise ValueError(
            f"too complex to match quickly (RE2 program size {compiled.programsize}, the "
            f"limit is {MAX_PROGRAM_SIZE}): use fewer or smaller counted repetitions like {{n}}"
        )
    return compiled


def search(pattern: Pattern, key: str) -> dict[str, str] | None:
    """The named groups `pattern` captures in `key` (unmatched optional groups left out), or
    None when it does not match or the key is longer than any S3 key can be."""
    if len(key) > MAX_KEY_CHARS:
        return None
    # Searching UTF-8 bytes spares re2's wrapper mapping byte offsets back to characters
    # (a third of the time); RE2 matches whole code points, so every group decodes.
    found = pattern.search(key.encode(errors="surrogatepass"))
    if found is None:
        return None
    return {
        name: value.decode(errors="surrogatepass")
        for name, value in found.groupdict().items()
        if value is not None
    }


def template_fields(template: str) -> set[str]:
    """The fields `template` substitutes, or ValueError naming the first placeholder that
    is more than a plain `{field}`."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"{e} ({_PLAIN_TEMPLATE_HINT})") from e
    fields = set()
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise ValueError(f"placeholder {shown!r} is not allowed: {_PLAIN_TEMPLATE_HINT}")
        fields.add(name)
    return fields


def render(template: str, fields: Mapping[str, str]) -> str:
    """`template` with each `{field}` replaced; a field that was not captured (an optional
    group) becomes empty. Only for templates `template_fields` accepted."""
    pieces = []
    for text, name, _spec, _conversion in string.Formatter().parse(template):
        pieces.append(text)
        if name is not None:
            pieces.append(fields.get(name, ""))
    return "".join(pieces)
