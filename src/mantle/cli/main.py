"""`mantle` entry point: the Typer app, its command groups, and exit codes from errors.

Start-up time matters for a CLI: each top-level command lives in a module that registers it
(`register(app)`) and is imported only when that command runs, or for `mantle --help`. No
command module imports httpx, pydantic or rich at import time (they load when a command
does its work), and help is rendered by click rather than rich. `bench/cli_startup.py`
measures the result.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from functools import cache

import typer
from typer.core import TyperGroup

from mantle.errors import InvalidInputError, MantleError, exit_code_for

# Which module registers each top-level command, in the order `mantle --help` lists them.
COMMAND_MODULES = {
    "server": "mantle.cli.server",
    "worker": "mantle.cli.server",
    "db": "mantle.cli.server",
    "users": "mantle.cli.server",
    "login": "mantle.cli.accounts",
    "logout": "mantle.cli.accounts",
    "whoami": "mantle.cli.accounts",
    "tenants": "mantle.cli.accounts",
    "tokens": "mantle.cli.accounts",
    "types": "mantle.cli.catalog",
    "datasets": "mantle.cli.catalog",
    "pipelines": "mantle.cli.pipelines",
    "aws": "mantle.cli.aws",
    "upload": "mantle.cli.transfer",
    "download": "mantle.cli.transfer",
    "import": "mantle.cli.transfer",
    "launch": "mantle.cli.runs",
    "runs": "mantle.cli.runs",
}


class QuickHelpGroup(TyperGroup):
    """A command group whose unused `--help` flag is False rather than None: Typer runs None
    through its pydantic coercion, which would load pydantic for `mantle datasets --help`."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


def _quick_help(groups) -> None:
    for info in groups:
        info.cls = info.cls or QuickHelpGroup
        _quick_help(info.typer_instance.registered_groups)


@cache
def registered(module_name: str) -> typer.Typer:
    """The commands a module registers, not yet turned into click commands (that costs
    signature inspection of every command: only the one that runs pays it)."""
    module = importlib.import_module(module_name)
    holder = typer.Typer(rich_markup_mode=None)
    module.register(holder)
    _quick_help(holder.registered_groups)
    return holder


@cache
def commands_of(module_name: str) -> dict:
    """The click commands a module registers, by name."""
    return typer.main.get_group(registered(module_name)).commands


def help_of(name: str) -> str:
    """A top-level command's help text, read from its registration."""
    holder = registered(COMMAND_MODULES[name])
    for command in holder.registered_commands:
        if command.name == name:
            return inspect.cleandoc(command.help or inspect.getdoc(command.callback) or "")
    for group in holder.registered_groups:
        if group.name == name:
            return typer.main.solve_typer_info_help(group)
    return ""


def short_help(text: str, limit: int) -> str:
    """The first sentence of the first paragraph, cut at `limit` characters."""
    first = " ".join(text.split("\n\n")[0].split())
    first = first.split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 3].rstrip() + "..."


class LazyCommands(QuickHelpGroup):
    """A group whose commands are loaded from their module when first asked for."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx, cmd_name: str):
        module = COMMAND_MODULES.get(cmd_name)
        return None if module is None else commands_of(module).get(cmd_name)

    def format_commands(self, ctx, formatter) -> None:
        limit = formatter.width - 6 - max(map(len, COMMAND_MODULES))
        rows = [(name, short_help(help_of(name), limit)) for name in COMMAND_MODULES]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyCommands,
    name="mantle",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from mantle._version import __version__

        print(f"mantle {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Mantle: a self-hosted data platform for biotech."""


def main() -> None:
    """Run the CLI; Typer handles usage errors (exit 2), Mantle's errors get their own codes."""
    try:
        app()
    except MantleError as e:
        _fail(e.message, exit_code_for(e))
    except Exception as e:
        pydantic = sys.modules.get("pydantic")  # never loaded: it cannot be its error
        if pydantic is None or not isinstance(e, pydantic.ValidationError):
            raise
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        _fail(problems, exit_code_for(InvalidInputError(problems)))


def _fail(message: str, code: int) -> None:
    from mantle.cli.output import err

    err.print(f"[red]error:[/red] {message}", highlight=False)
    sys.exit(code)


if __name__ == "__main__":
    main()
