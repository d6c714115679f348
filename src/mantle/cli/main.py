"""`mantle` entry point: the Typer app, its command groups, and exit codes from errors."""

from __future__ import annotations

import sys

import pydantic
import typer

from mantle.cli import accounts, server, transfer
from mantle.cli import aws as aws_commands
from mantle.cli import catalog as catalog_commands
from mantle.cli.output import err
from mantle.errors import InvalidInputError, MantleError, exit_code_for

app = typer.Typer(
    name="mantle",
    help="Mantle: a self-hosted data platform for biotech.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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


server.register(app)
accounts.register(app)
catalog_commands.register(app)
aws_commands.register(app)
transfer.register(app)


def main() -> None:
    """Run the CLI; Typer handles usage errors (exit 2), Mantle's errors get their own codes."""
    try:
        app()
    except MantleError as e:
        err.print(f"[red]error:[/red] {e.message}", highlight=False)
        sys.exit(exit_code_for(e))
    except pydantic.ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        err.print(f"[red]error:[/red] {problems}", highlight=False)
        sys.exit(exit_code_for(InvalidInputError(problems)))


if __name__ == "__main__":
    main()
