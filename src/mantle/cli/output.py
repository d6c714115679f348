"""Rendering for the CLI: a table for people, `--json` for scripts; errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, sort_keys=True))


def print_table(rows: Sequence[BaseModel], columns: Sequence[str], *, title: str = "") -> None:
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        data = row.model_dump(mode="json")
        table.add_row(*["" if data.get(c) is None else str(data.get(c)) for c in columns])
    out.print(table)


def emit(value: Any, *, as_json: bool, columns: Sequence[str] = (), title: str = "") -> None:
    if as_json:
        print_json(value)
    elif isinstance(value, list):
        print_table(value, columns, title=title)
    else:
        data = to_jsonable(value)
        for key in columns or data:
            out.print(f"[bold]{key}[/bold]: {data.get(key)}")
