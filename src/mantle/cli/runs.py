"""Run commands: `mantle launch PIPELINE ...` and `mantle runs list|show|tasks|logs|cancel|
relaunch|resume|wait`. `wait` (and `launch --wait`) show each state change and exit 10 when
the run ends FAILED, 11 when CANCELLED (`RUN_EXIT`); `logs --follow` reads on until the run
ends."""

from __future__ import annotations

import json
import time
from itertools import islice
from pathlib import Path

import typer

from mantle.cli.accounts import JSON, TENANT, client
from mantle.cli.output import emit, out, print_table
from mantle.errors import InvalidInputError

runs_app = typer.Typer(help="Pipeline runs: list, follow, stop, run again.", no_args_is_help=True)

RUN_COLUMNS = ("short_id", "name", "pipeline", "status", "environment", "created_by", "created_at")
SHOW_FIELDS = (
    "short_id", "name", "pipeline", "pipeline_version", "commit", "environment", "status",
    "status_reason", "params", "inputs", "labels", "run_dir", "work_dir", "external_id",
    "created_by", "created_at", "submitted_at", "started_at", "finished_at",
)  # fmt: skip
TASK_COLUMNS = ("task_id", "process", "tag", "status", "exit_code", "duration_ms", "peak_rss")
# Exit codes of `wait`: 0 succeeded; distinct from the error codes in mantle.errors (3-9).
RUN_EXIT = {"SUCCEEDED": 0, "FAILED": 10, "CANCELLED": 11}
POLL = typer.Option(5.0, "--poll", help="Seconds between checks.")


def register(app: typer.Typer) -> None:
    app.command("launch")(launch)
    app.add_typer(runs_app, name="runs")


def parse_params(pairs: list[str] | None, params_file: Path | None) -> dict:
    """`--params-file` (JSON, or YAML when PyYAML is there), then `--param k=v` on top;
    values are read as JSON when they parse (`5`, `true`, `[1,2]`), else kept as text."""
    params: dict = {}
    if params_file is not None:
        text = params_file.read_text()
        try:
            params = json.loads(text)
        except ValueError:
            params = _yaml(text, params_file)
        if not isinstance(params, dict):
            raise InvalidInputError(f"{params_file}: the params file holds an object")
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--param {pair!r}: write it as NAME=VALUE")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _yaml(text: str, path: Path):
    try:
        import yaml
    except ImportError as e:
        raise InvalidInputError(f"{path}: not JSON (YAML needs PyYAML installed)") from e
    return yaml.safe_load(text)


def launch(
    pipeline: str = typer.Argument(..., help="Pipeline name."),
    env: str = typer.Option(None, "--env", help="AWS environment, or `local`."),
    params_file: Path = typer.Option(None, "--params-file", exists=True, dir_okay=False),
    param: list[str] = typer.Option(None, "--param", help="NAME=VALUE, repeatable."),
    inputs: str = typer.Option(
        None, "--inputs", help="A catalog query, e.g. 'type=fastq_pair,project=X'."
    ),
    dataset: list[str] = typer.Option(None, "--dataset", "-d", help="Input dataset, repeatable."),
    column: list[str] = typer.Option(
        None, "--column", help="Samplesheet COLUMN=property, repeatable."
    ),
    version: int = typer.Option(None, "--version", help="Pipeline version (default: latest)."),
    name: str = typer.Option("", "--name", help="Run name (default: generated)."),
    label: list[str] = typer.Option(None, "--label", help="Label, repeatable."),
    wait: bool = typer.Option(False, "--wait", help="Follow the run until it ends."),
    poll: float = POLL,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Launch a pipeline run, e.g.
    `mantle launch rnaseq --env prod --inputs 'type=fastq_pair,project=X' --wait`."""
    columns = dict(c.partition("=")[::2] for c in column or [])
    chosen = inputs if inputs else list(dataset or [])
    with client() as api:
        run = api.runs.launch(
            pipeline,
            env=env,
            params=parse_params(param, params_file),
            inputs=chosen,
            columns=columns,
            version=version,
            name=name,
            labels=list(label or []),
            tenant=tenant,
        )
        if not wait:
            _show(run, as_json)
            return
        out.print(f"launched {run.short_id} ({run.name})", highlight=False)
        _wait(run, poll, None, as_json)


@runs_app.command("list")
def runs_list(
    status: list[str] = typer.Option(None, "--status", help="QUEUED, RUNNING, FAILED..."),
    pipeline: str = typer.Option(None, "--pipeline"),
    created_by: str = typer.Option(None, "--created-by", help="An email."),
    label: list[str] = typer.Option(None, "--label"),
    since: str = typer.Option(None, "--since", help="Created at or after (ISO time)."),
    limit: int = typer.Option(50, help="Show at most this many (0: all)."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Runs, newest first, e.g. `mantle runs list --status RUNNING --pipeline rnaseq`."""
    with client() as api:
        found = api.runs.list(
            status=[s.upper() for s in status or []], pipeline=pipeline, created_by=created_by,
            label=list(label or []), since=since, limit=limit or None, tenant=tenant,
        )  # fmt: skip
        rows = list(islice(found, limit) if limit else found)
    emit(rows, as_json=as_json, columns=RUN_COLUMNS)


@runs_app.command("show")
def runs_show(run: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """A run (`run-42` or its id) and its timeline of state changes."""
    with client() as api:
        found = api.runs.get(run, tenant=tenant)
        transitions = found.transitions()
    if as_json:
        emit(found, as_json=True)
        return
    _show(found, False)
    rows = [t.model_dump() for t in transitions]
    print_table(rows, ("at", "from_status", "to_status", "reason"), title="timeline")


def _show(run, as_json: bool) -> None:
    emit(run, as_json=as_json, columns=() if as_json else SHOW_FIELDS)


@runs_app.command("tasks")
def runs_tasks(run: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """The run's tasks (processes), from its trace and live events."""
    with client() as api:
        tasks = api.runs.tasks(run, tenant=tenant)
    emit(tasks, as_json=as_json, columns=TASK_COLUMNS)


@runs_app.command("logs")
def runs_logs(
    run: str,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep reading until it ends."),
    launcher: bool = typer.Option(False, "--launcher", help="The launcher's own log."),
    poll: float = typer.Option(2.0, "--poll", help="Seconds between reads with --follow."),
    tenant: str = TENANT,
) -> None:
    """The head job's log (or the launcher's); `--follow` reads on until the run ends."""
    source = "launcher" if launcher else "executor"
    with client() as api:
        cursor = None
        while True:
            page = api.runs.logs(run, cursor=cursor, source=source, tenant=tenant)
            for line in page.lines:
                print(line.message)
            if page.lines and page.cursor != cursor:
                cursor = page.cursor
                continue  # more may be there already
            if not follow or api.runs.get(run, tenant=tenant).finished:
                # One last read: lines written just before the end.
                if follow:
                    last = api.runs.logs(run, cursor=cursor, source=source, tenant=tenant)
                    for line in last.lines:
                        print(line.message)
                return
            time.sleep(poll)


@runs_app.command("cancel")
def runs_cancel(
    run: str,
    reason: str = typer.Option("", "--reason"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Stop the run: its head job and every task job."""
    with client() as api:
        _show(api.runs.cancel(run, reason=reason, tenant=tenant), as_json)


CHANGED_PARAM = typer.Option(None, "--param", help="NAME=VALUE to change, repeatable.")
CHANGED_PARAMS_FILE = typer.Option(None, "--params-file", help="JSON/YAML params to change.")


@runs_app.command("relaunch")
def runs_relaunch(
    run: str,
    name: str = typer.Option("", "--name"),
    param: list[str] = CHANGED_PARAM,
    params_file: Path | None = CHANGED_PARAMS_FILE,
    wait: bool = typer.Option(False, "--wait"),
    poll: float = POLL,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """A new run with the same pipeline version, params, inputs and environment."""
    _again("relaunch", run, name, param, params_file, wait, poll, tenant, as_json)


@runs_app.command("resume")
def runs_resume(
    run: str,
    name: str = typer.Option("", "--name"),
    param: list[str] = CHANGED_PARAM,
    params_file: Path | None = CHANGED_PARAMS_FILE,
    wait: bool = typer.Option(False, "--wait"),
    poll: float = POLL,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Continue a FAILED or CANCELLED Nextflow run in its work directory (-resume)."""
    _again("resume", run, name, param, params_file, wait, poll, tenant, as_json)


def _again(action, run, name, param, params_file, wait, poll, tenant, as_json) -> None:
    """Relaunch or resume `run` (SDK method `action`), then show or wait for the new run."""
    with client() as api:
        changed = parse_params(param, params_file)
        new = getattr(api.runs, action)(run, name=name, params=changed, tenant=tenant)
        _show(new, as_json) if not wait else _wait(new, poll, None, as_json)


@runs_app.command("wait")
def runs_wait(
    run: str,
    timeout: float = typer.Option(None, "--timeout", help="Give up after this many seconds."),
    poll: float = POLL,
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Wait until the run ends; exit 0 if it SUCCEEDED, 10 if FAILED, 11 if CANCELLED."""
    with client() as api:
        _wait(api.runs.get(run, tenant=tenant), poll, timeout, as_json)


def _wait(run, poll: float, timeout: float | None, as_json: bool) -> None:
    started = time.monotonic()
    seen: list[str] = []

    def progress(current) -> None:
        if not seen or seen[-1] != current.status:
            seen.append(current.status)
            elapsed = int(time.monotonic() - started)
            out.print(f"{current.short_id} {current.status} after {elapsed}s", highlight=False)

    try:
        final = run.wait(timeout=timeout, poll=poll, on_update=None if as_json else progress)
    except TimeoutError as e:
        raise InvalidInputError(str(e)) from e
    if as_json:
        emit(final, as_json=True)
    elif final.status_reason and final.status != "SUCCEEDED":
        out.print(f"{final.status}: {final.status_reason}", highlight=False)
    raise typer.Exit(RUN_EXIT.get(final.status, 1))
