"""`mantle upload`, `mantle download` and `mantle import ...`: data in and out of the catalog,
with progress bars for long transfers and imports."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path

import typer

from mantle.cli import config
from mantle.cli.accounts import JSON, TENANT, client
from mantle.cli.output import cell, emit, err, human_size, out
from mantle.errors import InvalidInputError

imports_app = typer.Typer(help="Import objects of read buckets as datasets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("upload")(upload)
    app.command("download")(download)
    app.add_typer(imports_app, name="import")


def parse_props(props: list[str]) -> dict:
    """`k=v` pairs; values that parse as JSON (numbers, booleans, lists) keep their type."""
    parsed = {}
    for item in props:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--prop {item!r}: expected key=value")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


@contextmanager
def transfer_bar(label: str, quiet: bool):
    """A byte progress bar on stderr; yields (on_start, advance) callbacks for the SDK."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=err.get(), disable=quiet,
    )  # fmt: skip
    with progress:
        task = progress.add_task(label, total=None)

        def on_start(total: int, already: int) -> None:
            progress.update(task, total=total, completed=already)

        yield on_start, lambda n: progress.advance(task, n)


def upload(
    paths: list[Path] = typer.Argument(..., help="Files and directories (recursive)."),
    data_type: str = typer.Option(..., "--type", help="Data type, e.g. fastq_pair."),
    name: str = typer.Option(None, help="Dataset name (default: the file or folder name)."),
    prop: list[str] = typer.Option([], "--prop", help="Property key=value (repeatable)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag (repeatable)."),
    duplicate: bool = typer.Option(
        False, "--duplicate", help="Upload even if the same files are already a dataset."
    ),
    parallel: int = typer.Option(8, min=1, max=64, help="Parts sent at once."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Upload files as a new dataset, in parallel parts straight to storage. Run the same
    command again after an interruption to resume. Reads files go in by themselves:
    `mantle upload S1_R1.fastq.gz S1_R2.fastq.gz --type fastq_pair` fills read1, read2 and
    sample; many files make one dataset per pair (or per file for one-file types)."""
    properties = parse_props(prop)
    with client() as api:
        from mantle.client._pairing import Sample, plan_samples

        samples = plan_samples(paths, api.data_types.get(data_type, tenant=tenant), properties)
        if samples is None:
            samples = [Sample(name, list(paths))]
        elif name is not None and len(samples) == 1:
            samples[0].name = name
        made = [
            _upload_one(api, sample, data_type, properties, tag, duplicate, parallel,
                        quiet, as_json, tenant)
            for sample in samples
        ]  # fmt: skip
    if as_json:
        emit(made[0] if len(made) == 1 else made, as_json=True)


def _upload_one(
    api, sample, data_type, properties, tags, duplicate, parallel, quiet, as_json, tenant
):
    paths = sample.paths
    if not duplicate:
        existing = api.uploads.find_uploaded(paths, data_type=data_type, tenant=tenant)
        if existing is not None:
            err.print(
                f"{sample.name or paths[0].name}: already uploaded as {existing.short_id}; "
                "use --duplicate to upload again", highlight=False,
            )  # fmt: skip
            return existing
    with transfer_bar("uploading", quiet or as_json) as (on_start, advance):
        dataset = api.uploads.upload(
            paths, data_type=data_type, name=sample.name, tags=tags,
            properties={**properties, **sample.properties}, duplicate=True, parallel=parallel,
            progress=advance, on_start=on_start, tenant=tenant,
            resume_dir=config.config_dir() / "uploads",
        )  # fmt: skip
    if not as_json:
        out.print(f"created {dataset.short_id} ({dataset.name}, {len(dataset.files)} files)")
    return dataset


def download(
    dataset: str = typer.Argument(..., help="Dataset id (DS-000042) or UUID."),
    to: Path = typer.Option(Path("."), help="Directory to write into."),
    force: bool = typer.Option(False, "--force", help="Replace files that already exist."),
    parallel: int = typer.Option(8, min=1, max=64, help="Byte ranges fetched at once."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    tenant: str = TENANT,
) -> None:
    """Download a dataset's files (keeping their paths) in parallel. Unsafe names (`..`,
    `.git/...`, absolute paths) are refused, and existing files kept unless --force."""
    with client() as api, transfer_bar("downloading", quiet) as (on_start, advance):
        paths = api.uploads.download(
            dataset, to=to, overwrite=force, parallel=parallel, progress=advance,
            on_start=on_start, tenant=tenant,
        )  # fmt: skip
    out.print(f"downloaded {len(paths)} file(s) to {to}")


def _spec(bucket, prefix, data_type, pattern, key, name, prop, tag, environment) -> dict:
    patterns = {}
    for item in pattern:
        role, sep, regex = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--pattern {item!r}: expected property=regex")
        patterns[role] = regex
    return {
        "environment": environment, "bucket": bucket, "prefix": prefix, "data_type": data_type,
        "patterns": patterns, "key": key or None, "name": name, "properties": parse_props(prop),
        "tags": tag,
    }  # fmt: skip


BUCKET = typer.Argument(..., help="A read bucket of the environment.")
PREFIX = typer.Option("", help="Only keys below this prefix.")
ENVIRONMENT = typer.Option(None, "--environment", "-e", help="Default: the default one.")
PATTERN = typer.Option(
    ...,
    "--pattern",
    "-p",
    help="property=regex (RE2 syntax), e.g. read1='(?P<sample>.+)_R1_001.fastq.gz$'",
)
KEY = typer.Option("sample", help="Named group keying one dataset ('' = one per object).")


@imports_app.command("buckets")
def import_buckets(environment: str = ENVIRONMENT, tenant: str = TENANT, as_json: bool = JSON):
    """The read buckets of an environment."""
    with client() as api:
        emit(api.imports.buckets(environment=environment, tenant=tenant), as_json=as_json,
             columns=("bucket", "prefix", "uri"))  # fmt: skip


@imports_app.command("ls")
def import_ls(
    bucket: str = BUCKET, prefix: str = PREFIX, environment: str = ENVIRONMENT,
    tenant: str = TENANT, as_json: bool = JSON,
) -> None:  # fmt: skip
    """Folders and objects of a read bucket, one level at a time."""
    with client() as api:
        listing = api.imports.browse(bucket, prefix=prefix, environment=environment,
                                     tenant=tenant)  # fmt: skip
    if as_json:
        emit(listing, as_json=True)
        return
    for folder in listing.folders:
        out.print(f"{'':>12}  {'':19}  {folder}", highlight=False)
    for obj in listing.objects:
        when = obj.last_modified.strftime("%Y-%m-%d %H:%M:%S")
        out.print(f"{human_size(obj.size):>12}  {when}  {obj.key}", highlight=False)


@imports_app.command("run")
def import_run(
    bucket: str = BUCKET,
    data_type: str = typer.Option(..., "--type", help="Data type of the new datasets."),
    pattern: list[str] = PATTERN,
    prefix: str = PREFIX,
    key: str = KEY,
    name: str = typer.Option(None, help="Name template, e.g. '{sample}'."),
    prop: list[str] = typer.Option([], "--prop", help="Constant property key=value."),
    tag: list[str] = typer.Option([], "--tag"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Preview; create nothing."),
    wait: bool = typer.Option(True, help="Follow the import until it ends."),
    environment: str = ENVIRONMENT,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Register objects as datasets without copying them (re-running creates no duplicates)."""
    spec = _spec(bucket, prefix, data_type, pattern, key, name, prop, tag, environment)
    with client() as api:
        if dry_run:
            preview = api.imports.preview(spec, tenant=tenant)
            if as_json:
                emit(preview, as_json=True)
                return
            _print_preview(preview)
            return
        job = api.imports.start(spec, tenant=tenant)
        if wait:
            job = _follow(api, job, tenant, quiet=as_json)
    if as_json:
        emit(job, as_json=True)
    else:
        _print_import(job)


def _print_import(job) -> None:
    counts = {k: v for k, v in job.progress.items() if k not in ("problems", "phase")}
    out.print(f"import {job.id}: {job.status}", highlight=False)
    if counts:
        out.print("  " + cell(counts).replace("_", " "), highlight=False)
    for problem in (job.progress.get("problems") or [])[:20]:
        out.print(f"  skipped {problem}", highlight=False)
    if job.error:
        err.print(f"[red]error:[/red] {job.error}", highlight=False)


def _print_preview(preview) -> None:
    out.print(f"{preview.objects_scanned} objects scanned, {preview.objects_matched} matched"
              + ("" if preview.complete else " (preview stopped early)"))  # fmt: skip
    for ds in preview.datasets:
        state = "exists" if ds.exists else ("skip: " + "; ".join(ds.problems) if ds.problems
                                            else "new")  # fmt: skip
        out.print(f"  {ds.name:30} {len(ds.files)} file(s)  {state}", highlight=False)


def _follow(api, job, tenant, quiet: bool):
    from rich.progress import BarColumn, Progress

    with Progress("{task.description}", BarColumn(), "{task.fields[counts]}", console=err.get(),
                  disable=quiet) as progress:  # fmt: skip
        task = progress.add_task("importing", total=None, counts="")
        while job.status in ("queued", "running"):
            time.sleep(0.5)
            job = api.imports.get(job.id, tenant=tenant)
            p = job.progress
            progress.update(task, description=f"importing ({p.get('phase', 'queued')})",
                            counts=f"{p.get('objects_scanned', 0)} scanned, "
                            f"{p.get('datasets_created', 0)} created")  # fmt: skip
    return job
