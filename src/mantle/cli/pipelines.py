"""Pipeline registry commands: `mantle pipelines add|list|show|versions|schema`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mantle.cli.accounts import JSON, TENANT, client
from mantle.cli.output import cell, emit, out, print_table
from mantle.errors import InvalidInputError

pipelines_app = typer.Typer(
    help="Pipelines: Nextflow repositories and script pipelines you can run.",
    no_args_is_help=True,
)

PIPELINE_COLUMNS = ("name", "engine", "latest_version", "revision", "commit", "repository")
VERSION_COLUMNS = ("version", "revision", "commit", "samplesheet_param", "created_at", "created_by")
SHOW_FIELDS = ("pipeline", "version", "engine", "revision", "commit", "main_script",
               "samplesheet_param", "created_at", "created_by")  # fmt: skip
VERSION = typer.Option(None, "--version", "-v", help="Version number (default: the latest).")


def register(app: typer.Typer) -> None:
    app.add_typer(pipelines_app, name="pipelines")


def _rules(path: Path | None) -> list | None:
    if path is None:
        return None
    import yaml

    try:
        rules = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InvalidInputError(f"--rules {path}: {e}") from e
    if not isinstance(rules, list):
        raise InvalidInputError(f"--rules {path}: write a list of rules (JSON or YAML)")
    return rules


def _columns(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    found = {}
    for item in items:
        column, sep, source = item.partition("=")
        if not sep or not column.strip() or not source.strip():
            raise InvalidInputError(f"--column {item!r}: write COLUMN=SOURCE, e.g. fastq_1=file:R1")
        found[column.strip()] = source.strip()
    return found


@pipelines_app.command("add")
def pipelines_add(
    repository: str = typer.Argument(..., help="git URL (https, ssh) or a path on the server."),
    revision: str = typer.Option("main", "--revision", "-r", help="Tag, branch or commit."),
    name: str = typer.Option(None, "--name", "-n", help="Default: the repository's name."),
    description: str = typer.Option("", help="What the pipeline does."),
    rules: Path = typer.Option(
        None, "--rules", help="Output rules file (YAML or JSON list of {glob, data_type, ...})."
    ),
    samplesheet_param: str = typer.Option(
        None, "--samplesheet-param", help="Param that takes the samplesheet (default: found)."
    ),
    column: list[str] = typer.Option(
        None, "--column", help="Samplesheet column mapping COLUMN=SOURCE, repeatable."
    ),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Register a pipeline from git at a revision (a new version if the name exists), e.g.
    `mantle pipelines add https://github.com/nf-core/rnaseq -r 3.14.0`."""
    samplesheet = None
    if samplesheet_param or column:
        samplesheet = {"param": samplesheet_param, "columns": _columns(column)}
    with client() as api:
        created = api.pipelines.add(
            repository,
            revision=revision,
            name=name,
            description=description,
            output_rules=_rules(rules),
            samplesheet=samplesheet,
            tenant=tenant,
        )
    emit(created, as_json=as_json, columns=SHOW_FIELDS)


@pipelines_app.command("list")
def pipelines_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        found = api.pipelines.list(tenant=tenant)
    if as_json:
        emit(found, as_json=True)
        return
    rows = [{**p.model_dump(mode="json"), "commit": p.commit[:12]} for p in found]
    print_table(rows, PIPELINE_COLUMNS)


@pipelines_app.command("show")
def pipelines_show(
    ref: str = typer.Argument(..., help="Pipeline name or id."),
    version: int = VERSION,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """A pipeline version: revision, exact commit, samplesheet param and output rules."""
    with client() as api:
        found = api.pipelines.version(ref, version, tenant=tenant)
    if as_json:
        emit(found, as_json=True)
        return
    emit(found, as_json=False, columns=SHOW_FIELDS)
    if found.output_rules:
        out.print("output rules:", style="bold")
        print_table(found.output_rules, ("glob", "data_type", "pattern", "name", "group_by"))
    if found.script:
        out.print(f"[bold]command[/bold]: {' '.join(found.script.get('command', []))}")


@pipelines_app.command("versions")
def pipelines_versions(ref: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        found = api.pipelines.versions(ref, tenant=tenant)
    emit(found, as_json=as_json, columns=VERSION_COLUMNS)


@pipelines_app.command("schema")
def pipelines_schema(
    ref: str = typer.Argument(..., help="Pipeline name or id."),
    version: int = VERSION,
    show_hidden: bool = typer.Option(False, "--all", help="Show hidden params too."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """The params a launch takes, by group: type, default, allowed values, required."""
    with client() as api:
        form = api.pipelines.schema(ref, version, tenant=tenant)
    if as_json:
        emit(form, as_json=True)
        return
    for group in form.groups:
        rows = [
            {
                "param": p["name"] + (" *" if p.get("required") else ""),
                "type": p.get("format") or p.get("type", ""),
                "default": json.dumps(p["default"]) if "default" in p else "",
                "allowed": cell(p.get("enum")),
                "description": p.get("description", ""),
            }
            for p in group["params"]
            if show_hidden or not p.get("hidden")
        ]
        if rows:
            print_table(rows, list(rows[0]), title=group["title"])
    if form.samplesheet_param:
        names = ", ".join(
            c["name"] + ("*" if c["required"] else "") for c in form.samplesheet_columns
        )
        out.print(f"samplesheet: --{form.samplesheet_param} takes a CSV with columns {names}")
    for item in form.inputs:
        kinds = ", ".join(item.get("data_types") or []) or "any type"
        out.print(f"input '{item['name']}': datasets of {kinds}")
    out.print("* required", style="dim")
