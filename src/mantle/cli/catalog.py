"""Catalog commands: `mantle types ...` (data types) and `mantle datasets ...` (list with
filters, show, history, create, update, archive, restore, lineage, export)."""

from __future__ import annotations

import json
import re
import sys
from itertools import islice

import typer

from mantle.cli.accounts import JSON, TENANT, client
from mantle.cli.output import cell, dataset_view, emit, human_size, out, print_table
from mantle.errors import InvalidInputError

types_app = typer.Typer(help="Data types: the property schemas of datasets.", no_args_is_help=True)
datasets_app = typer.Typer(help="Datasets in the catalog.", no_args_is_help=True)

TYPE_COLUMNS = ("name", "version", "builtin", "description")
DATASET_COLUMNS = ("short_id", "name", "data_type", "properties", "tags", "version", "created_at")
VERSION_COLUMNS = ("version", "change", "name", "properties", "tags", "archived", "created_at")
WHERE = typer.Option(None, "--where", "-w", help="Property condition, e.g. sample=S1, depth>=30.")
TAGS = typer.Option(None, "--tag", help="Has this tag (repeat: all of them).")
TYPE = typer.Option(None, "--type", help="Data type name.")
_PROP_SPEC = re.compile(r"^([A-Za-z_]\w*):(\w+)(?:\[(\w+)\])?(!)?(?:=(.+))?$")


def register(app: typer.Typer) -> None:
    app.add_typer(types_app, name="types")
    app.add_typer(datasets_app, name="datasets")


# --- types ---------------------------------------------------------------------------------


@types_app.command("list")
def types_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.data_types.list(tenant=tenant), as_json=as_json, columns=TYPE_COLUMNS)


@types_app.command("show")
def types_show(name: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        found = api.data_types.get(name, tenant=tenant)
    if as_json:
        emit(found, as_json=True)
        return
    out.print(f"[bold]{found.name}[/bold] version {found.version}  {found.description}".rstrip())
    rows = [
        {
            "property": p.name,
            "type": f"{p.type}[{p.items}]" if p.items else str(p.type),
            "required": "required" if p.required else "",
            "allowed values": p.enum,
            "description": p.description,
        }
        for p in found.properties
    ]
    if rows:
        print_table(rows, list(rows[0]))
    if found.additional_properties:
        out.print("accepts other properties too", style="dim")


def parse_property_spec(spec: str) -> dict:
    """`sample:string!` (required), `reads:file`, `tags:list[string]`, `kind:string=a|b`."""
    match = _PROP_SPEC.match(spec.strip())
    if match is None:
        raise InvalidInputError(
            f"--prop {spec!r}: write NAME:TYPE, with ! for required, [ITEM] for lists and "
            "=A|B for an enum, e.g. sample:string! or lane:integer=1|2|3|4"
        )
    name, kind, items, required, enum = match.groups()
    prop: dict = {"name": name, "type": kind, "required": bool(required)}
    if items:
        prop["items"] = items
    if enum:
        prop["enum"] = enum.split("|")
    return prop


@types_app.command("create")
def types_create(
    name: str,
    prop: list[str] = typer.Option(None, "--prop", help="NAME:TYPE[!], repeatable."),
    description: str = typer.Option("", help="What datasets of this type are."),
    additional: bool = typer.Option(False, help="Accept properties the type does not declare."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Create a data type, e.g. `mantle types create bam --prop sample:string! --prop bam:file!`."""
    properties = [parse_property_spec(p) for p in prop or []]
    with client() as api:
        created = api.data_types.create(
            name,
            properties,
            description=description,
            additional_properties=additional,
            tenant=tenant,
        )
    emit(created, as_json=as_json, columns=TYPE_COLUMNS)


def _enums(items: list[str] | None) -> dict[str, list | None]:
    """`kind=a|b|c` sets an enum, `kind=` drops it."""
    enums: dict[str, list | None] = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"--enum {item!r}: write NAME=A|B|C (or NAME= to drop it)")
        enums[name.strip()] = values.split("|") if values else None
    return enums


@types_app.command("update")
def types_update(
    name: str,
    description: str = typer.Option(None, help="New description."),
    add_prop: list[str] = typer.Option(None, "--add-prop", help="NAME:TYPE, repeatable."),
    remove_prop: list[str] = typer.Option(None, "--remove-prop", help="Property to drop."),
    require: list[str] = typer.Option(None, "--require", help="Make a property required."),
    optional: list[str] = typer.Option(None, "--optional", help="Make a property optional."),
    enum: list[str] = typer.Option(None, "--enum", help="NAME=A|B|C allowed values; NAME= drops."),
    additional: bool = typer.Option(
        None, "--additional/--no-additional", help="Accept undeclared properties."
    ),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Change a data type (a new version), e.g. `mantle types update rnaseq --add-prop
    depth:integer --optional strand --enum strand=forward|reverse|unstranded`. Changes that
    would make existing datasets invalid are refused (exit 6) with the datasets named."""
    with client() as api:
        updated = api.data_types.edit(
            name, description=description, add=[parse_property_spec(p) for p in add_prop or []],
            remove=remove_prop or [], require=require or [], optional=optional or [],
            enums=_enums(enum), additional_properties=additional, tenant=tenant,
        )  # fmt: skip
    emit(updated, as_json=as_json, columns=TYPE_COLUMNS)


# --- datasets ------------------------------------------------------------------------------


def _assignments(pairs: list[str] | None) -> dict:
    values = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--prop {pair!r}: write KEY=VALUE")
        values[key.strip()] = value
    return values


@datasets_app.command("list")
def datasets_list(
    data_type: str = TYPE,
    where: list[str] = WHERE,
    tag: list[str] = TAGS,
    archived: str = typer.Option("exclude", help="exclude, include or only archived ones."),
    sort: str = typer.Option(
        "-created_at", help="created_at, updated_at, name, id or properties.<name>; -: desc."
    ),
    limit: int = typer.Option(50, help="Show at most this many (0: all)."),
    count: bool = typer.Option(False, "--count", help="Print only how many match."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """List datasets, e.g. `mantle datasets list --type fastq_pair --where sample=S1`."""
    with client() as api:
        found = api.datasets.query(
            type=data_type,
            where=list(where or []),
            tags=tag or [],
            archived=archived,
            sort=sort,
            page_size=min(limit or 500, 500),
            tenant=tenant,
        )
        if count:
            total = found.count()
            emit({"count": total}, as_json=True) if as_json else print(total)
            return
        rows = list(islice(found, limit) if limit else found)
    emit(rows, as_json=as_json, columns=DATASET_COLUMNS)


@datasets_app.command("show")
def datasets_show(
    dataset: str,
    version: int = typer.Option(None, help="Show this version instead of the current one."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with client() as api:
        if version is None:
            found = api.datasets.get(dataset, tenant=tenant)
        else:
            found = api.datasets.version(dataset, version, tenant=tenant)
    if as_json:
        emit(found, as_json=True)
        return
    _print_dataset(dataset_view(found.model_dump(mode="json")))


def _print_dataset(data: dict) -> None:
    state = "  (archived)" if data.get("archived") else ""
    out.print(f"[bold]{data['short_id']}[/bold]  {data['name']}{state}", highlight=False)
    out.print(
        f"type {data['data_type']} (version {data['data_type_version']}), dataset version "
        f"{data['version']}, created {cell(data['created_at'])} by {data['created_by']}",
        highlight=False,
    )
    if data["tags"]:
        out.print(f"tags: {cell(data['tags'])}", highlight=False)
    rows = [{"property": k, "value": cell(v)} for k, v in data["properties"].items()]
    if rows:
        print_table(rows, ("property", "value"))
    files = [
        {"file": f["name"], "size": human_size(f["size"]), "checksum": f["checksum"],
         "storage": f["storage"]}
        for f in data["files"]
    ]  # fmt: skip
    if files:
        print_table(files, ("file", "size", "checksum", "storage"))


@datasets_app.command("history")
def datasets_history(dataset: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Every version of a dataset, oldest first."""
    with client() as api:
        emit(
            api.datasets.versions(dataset, tenant=tenant), as_json=as_json, columns=VERSION_COLUMNS
        )


@datasets_app.command("create")
def datasets_create(
    name: str,
    data_type: str = typer.Option(..., "--type", help="Data type name."),
    prop: list[str] = typer.Option(None, "--prop", help="KEY=VALUE, repeatable."),
    file: list[str] = typer.Option(None, "--file", help="URI of a file already stored."),
    tag: list[str] = TAGS,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Create a dataset over files already in object storage (your area or a read bucket)."""
    with client() as api:
        created = api.datasets.create(
            name,
            data_type,
            _assignments(prop),
            files=[{"uri": uri} for uri in file or []],
            tags=tag or [],
            tenant=tenant,
        )
    emit(created, as_json=as_json, columns=DATASET_COLUMNS)


@datasets_app.command("update")
def datasets_update(
    dataset: str,
    prop: list[str] = typer.Option(None, "--prop", help="KEY=VALUE to set, repeatable."),
    unset: list[str] = typer.Option(None, "--unset", help="Property to remove."),
    tag: list[str] = typer.Option(None, "--tag", help="Tag to add."),
    untag: list[str] = typer.Option(None, "--untag", help="Tag to remove."),
    name: str = typer.Option(None, help="New name."),
    expected_version: int = typer.Option(
        None, help="Refuse (exit 6) if the dataset is no longer at this version."
    ),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    properties = _assignments(prop) | {key: None for key in unset or []}
    changes = {
        "properties": properties or None,
        "add_tags": tag or [],
        "remove_tags": untag or [],
        "name": name,
    }
    with client() as api:
        updated = api.datasets.update(
            dataset, expected_version=expected_version, tenant=tenant, **changes
        )
    emit(updated, as_json=as_json, columns=DATASET_COLUMNS)


@datasets_app.command("archive")
def datasets_archive(dataset: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Hide a dataset from lists; its history and files stay. `restore` brings it back."""
    with client() as api:
        emit(api.datasets.archive(dataset, tenant=tenant), as_json=as_json, columns=DATASET_COLUMNS)


@datasets_app.command("restore")
def datasets_restore(dataset: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.datasets.restore(dataset, tenant=tenant), as_json=as_json, columns=DATASET_COLUMNS)


@datasets_app.command("lineage")
def datasets_lineage(
    dataset: str,
    depth: int = typer.Option(3, help="Steps upstream and downstream."),
    direction: str = typer.Option("both", help="both, upstream or downstream."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Datasets and the activities (uploads, imports, runs) that link them."""
    with client() as api:
        graph = api.datasets.lineage(dataset, depth=depth, direction=direction, tenant=tenant)
    if as_json:
        emit(graph, as_json=True)
        return
    names = {n.id: f"{n.id} {n.name}" if n.kind == "dataset" else n.name for n in graph.nodes}
    out.print(f"lineage of {graph.root} ({len(graph.nodes)} nodes)", highlight=False)
    for edge in graph.edges:
        source, target = names.get(edge.source, edge.source), names.get(edge.target, edge.target)
        out.print(f"  {source} -> {target}", highlight=False)
    if graph.truncated:
        out.print("  (truncated: ask for less depth)", style="dim")


@datasets_app.command("export")
def datasets_export(
    format: str = typer.Option("csv", "--format", "-f", help="csv, tsv or json."),
    data_type: str = TYPE,
    where: list[str] = WHERE,
    tag: list[str] = TAGS,
    columns: str = typer.Option(
        None, help="e.g. sample,fastq_1=read1,fastq_2=read2 (default: the type's properties)."
    ),
    filter: str = typer.Option(None, help="A JSON filter tree."),
    output: str = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    tenant: str = TENANT,
) -> None:
    """Export matching datasets, e.g. a samplesheet:
    `mantle datasets export --type fastq_pair --columns sample,fastq_1=read1,fastq_2=read2`."""
    tree = json.loads(filter) if filter else None
    with client() as api:
        text = api.datasets.export(
            format,
            type=data_type,
            where=list(where or []),
            tags=tag or [],
            filter=tree,
            columns=columns,
            path=output,
            tenant=tenant,
        )
    if text is not None:
        sys.stdout.write(text)
