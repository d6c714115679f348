"""Rendering for the CLI: a table for people, `--json` for scripts; errors on stderr.

Tables show values as people read them: `k=v` for mappings, comma-separated lists, times to
the second, sizes as `1.5 GiB`. A dataset's file properties show the file's name in the
dataset, not its storage URI (which only `--json` prints). rich is loaded on first use, so
`mantle --help` does not pay for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]00:00)?$")


class _LazyConsole:
    """A rich Console made on first use."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._made: Any = None

    def get(self):
        """The rich Console itself (for rich's own widgets, such as progress bars)."""
        if self._made is None:
            from rich.console import Console

            self._made = Console(**self._options)
        return self._made

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)


out = _LazyConsole()
err = _LazyConsole(stderr=True, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, sort_keys=True))


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def cell(value: Any) -> str:
    """One value as a table shows it."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, str) and (match := _TIMESTAMP.match(value)):
        return f"{match.group(1)} {match.group(2)}"
    return str(value)


def dataset_view(data: dict) -> dict:
    """A dataset (or one of its versions) as JSON, with file properties naming the file
    inside the dataset instead of its storage URI."""
    names = {f["uri"]: f["name"] for f in data.get("files", [])}

    def shown(value: Any) -> Any:
        if isinstance(value, list):
            return [shown(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return {**data, "properties": {k: shown(v) for k, v in data.get("properties", {}).items()}}


def print_table(rows: Sequence[Any], columns: Sequence[str], *, title: str = "") -> None:
    from rich.table import Table

    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        data = _view(to_jsonable(row))
        table.add_row(*[cell(data.get(c)) for c in columns])
    out.print(table)


def _view(data: dict) -> dict:
    return dataset_view(data) if "files" in data and "properties" in data else data


def emit(value: Any, *, as_json: bool, columns: Sequence[str] = (), title: str = "") -> None:
    if as_json:
        print_json(value)
    elif isinstance(value, list):
        print_table(value, columns, title=title)
    else:
        data = _view(to_jsonable(value))
        for key in columns or data:
            out.print(f"[bold]{key}[/bold]: {cell(data.get(key))}", highlight=False)
