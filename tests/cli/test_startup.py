"""`mantle --help` and `mantle <group> --help` stay fast: they load no heavy package, and
every top-level command is listed and routed to the module that registers it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from mantle.cli import main as cli_main

HEAVY = ("httpx", "pydantic", "rich", "sqlalchemy", "boto3", "fastapi", "mantle.client")


def _loaded_by(*args: str) -> tuple[str, list[str]]:
    code = (
        f"import sys; sys.argv = ['mantle', *{list(args)!r}]\n"
        "from mantle.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        f"print('|'.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout, [m for m in done.stderr.strip().split("|") if m]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["datasets", "--help"], ["aws", "environments", "--help"], ["upload", "--help"]],
)
def test_help_loads_no_heavy_package(args):
    shown, heavy = _loaded_by(*args)
    assert "Usage: mantle" in shown
    assert heavy == []


def test_every_command_is_listed_and_routed():
    found: dict[str, str] = {}
    for module in set(cli_main.COMMAND_MODULES.values()):
        holder = typer.Typer()
        __import__(module, fromlist=["register"]).register(holder)
        names = [c.name for c in holder.registered_commands]
        names += [g.name for g in holder.registered_groups]
        found.update(dict.fromkeys(names, module))
    assert found == cli_main.COMMAND_MODULES, "a module registers a command main.py does not list"
    shown, _ = _loaded_by("--help")
    for name in found:
        assert f"\n  {name} " in shown


@pytest.mark.parametrize("name", sorted(cli_main.COMMAND_MODULES))
def test_each_command_has_working_help(name):
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli_main.app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: mantle {name}" in result.output
