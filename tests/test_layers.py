"""The layers of ARCHITECTURE.md, checked on the source: every `import` of every module (also
those inside functions and under TYPE_CHECKING) gives an edge between top-level parts of
`mantle` (`mantle.catalog.imports` is `catalog`; the package's own `__init__` is `mantle`).
Data flows down: the bottom never imports upwards, the SDK nothing server-side, and no two
parts import each other, directly or in a ring."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import mantle

SOURCE = Path(mantle.__file__).parent

BASICS = {
    "errors", "_version", "checksums", "private_files", "settings", "schemas", "bucket_names",
    "import_syntax", "rundir", "urls",
}  # fmt: skip
# The launcher runs inside Batch head jobs: it may use the bottom layer only.
BOTTOM = BASICS | {"db", "storage", "aws", "executors", "launcher"}
SERVICES = {"accounts", "jobs", "catalog", "cloud", "pipelines", "runs"}
TOP = {"services", "api", "web", "app", "cli", "client", "mantle"}
# The SDK ships to users' machines: it may use only these parts (storage for key checks).
SDK_MAY_IMPORT = {"client", "errors", "schemas", "checksums", "_version", "storage"}
SERVER_ONLY = ("sqlalchemy", "fastapi", "starlette", "alembic", "uvicorn", "argon2", "boto3")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    """`mantle.catalog.imports` -> `catalog`; `mantle` -> `mantle`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "mantle"


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: resolve against this module's package
        package = module.split(".")
        package = package if is_package else package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    if base == "mantle":  # `from mantle import x`: the submodule x, or the package itself
        return [f"mantle.{a.name}" if _is_part(a.name) else "mantle" for a in node.names]
    return [base]


def _is_part(name: str) -> bool:
    return (SOURCE / name).is_dir() or (SOURCE / f"{name}.py").exists()


@cache
def imports_by_module() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            names.update(_imported(node, module, path.name == "__init__.py"))
        found[module] = names
    return found


@cache
def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, names in imports_by_module().items():
        for name in names:
            inside = name == "mantle" or name.startswith("mantle.")
            if inside and _part(name) != _part(module):
                graph[_part(module)].add(_part(name))
    return graph


def _importers(targets: set[str]) -> dict[str, set[str]]:
    return {part: deps & targets for part, deps in part_graph().items() if deps & targets}


def test_the_bottom_layer_imports_nothing_above_it():
    offending = {p: d for p, d in _importers(SERVICES | TOP).items() if p in BOTTOM}
    assert offending == {}


def test_services_import_no_interface():
    offending = {p: d for p, d in _importers(TOP).items() if p in SERVICES}
    assert offending == {}


def test_the_api_does_not_import_the_web_pages():
    assert "web" not in part_graph()["api"]
    assert "app" not in part_graph()["api"] | part_graph()["web"]


def test_the_sdk_imports_only_client_side_parts():
    assert part_graph()["client"] <= SDK_MAY_IMPORT
    third_party = {
        name.split(".")[0]
        for module, names in imports_by_module().items()
        if module.startswith("mantle.client")
        for name in names
    }
    assert not third_party & set(SERVER_ONLY)


def test_importing_the_sdk_loads_nothing_server_side():
    code = (
        "import sys, mantle; mantle.Client; "
        f"print(sorted(m for m in {SERVER_ONLY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one (depth-first)."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_two_parts_import_each_other():
    graph = part_graph()
    cycles = [c for part in sorted(graph) if (c := _cycle_from(part, graph))]
    assert cycles == [], " | ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_sees_cycles():
    assert _cycle_from("api", {"api": {"web"}, "web": {"api"}}) == ["api", "web", "api"]
    assert _cycle_from("mantle", {"mantle": {"client"}, "client": {"x"}, "x": {"mantle"}})
    assert _cycle_from("api", {"api": {"web"}, "web": {"db"}}) is None
