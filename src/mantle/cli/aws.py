"""`mantle aws ...`: environments, the setup kit, the doctor and the provisioner, through the
SDK with the stored login; and `mantle aws reencrypt`, which runs on the server (it works on
the database with the settings, like `mantle db upgrade`).

Secrets never go on the command line (shell history, `ps`): the secret access key is read
from MANTLE_AWS_SECRET_ACCESS_KEY or asked for without echo, and so is the old server key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mantle.cli.accounts import JSON, TENANT, client
from mantle.cli.output import emit, out

if TYPE_CHECKING:
    from mantle.client import Client

SECRET_ENV = "MANTLE_AWS_SECRET_ACCESS_KEY"
ENV_COLUMNS = ("name", "region", "account_id", "is_default", "write_bucket", "head_queue")
CHECK_COLUMNS = ("status", "name", "message", "fix")
ACTION_COLUMNS = ("action", "resource", "name", "detail")

aws_app = typer.Typer(
    help="AWS: environments, setup kit, doctor, provisioning.", no_args_is_help=True
)
environments_app = typer.Typer(help="A tenant's AWS environments.", no_args_is_help=True)
aws_app.add_typer(environments_app, name="environments")

ENV_ARG = typer.Argument(None, help="Environment name (default: the tenant's default).")


def register(app: typer.Typer) -> None:
    app.add_typer(aws_app, name="aws")


def _resolve(api: Client, name: str | None, tenant: str | None) -> str:
    return name or api.environments.default(tenant=tenant).name


# --- options shared by create and update ---------------------------------------------------


def _read_buckets(values: list[str] | None) -> list[dict[str, str]] | None:
    """`bucket` or `bucket/some/prefix`."""
    if not values:
        return None
    return [
        dict(zip(("bucket", "prefix"), (*v.split("/", 1), "")[:2], strict=True)) for v in values
    ]


def _credentials(role_arn, access_key_id, server_credentials) -> dict[str, Any] | None:
    chosen = [x for x in (role_arn, access_key_id, server_credentials) if x]
    if len(chosen) > 1:
        raise typer.BadParameter("give one of --role-arn, --access-key-id, --server-credentials")
    if role_arn:
        return {"kind": "role", "role_arn": role_arn}
    if access_key_id:
        secret = os.environ.get(SECRET_ENV) or typer.prompt("Secret access key", hide_input=True)
        return {"kind": "keys", "access_key_id": access_key_id, "secret_access_key": secret}
    return {"kind": "server"} if server_credentials else None


def _fields(options: dict[str, Any]) -> dict[str, Any]:
    credentials = _credentials(
        options.pop("role_arn"), options.pop("access_key_id"), options.pop("server_credentials")
    )
    config_file: Path | None = options.pop("nextflow_config_file")
    fields = {k: v for k, v in options.items() if v is not None}
    if credentials:
        fields["credentials"] = credentials
    if config_file:
        fields["nextflow_config"] = config_file.read_text()
    buckets = _read_buckets(fields.pop("read_bucket", None))
    if buckets is not None:
        fields["read_buckets"] = buckets
    return fields


REGION = typer.Option(None, help="AWS region, e.g. eu-west-1.")
ACCOUNT = typer.Option(None, help="12-digit AWS account id (implied by --role-arn).")
ROLE = typer.Option(None, help="Role to assume (preferred); see `mantle aws external-id`.")
KEY_ID = typer.Option(None, help=f"Access key id; the secret comes from {SECRET_ENV} or a prompt.")
SERVER = typer.Option(None, "--server-credentials", help="The server's own credentials.")
WRITE_BUCKET = typer.Option(None, help="Bucket for everything Mantle writes.")
WRITE_PREFIX = typer.Option(None, help="Prefix inside the write bucket.")
READ_BUCKET = typer.Option(None, help="Read bucket, `bucket` or `bucket/prefix` (repeat).")
HEAD_QUEUE = typer.Option(None, help="Batch queue of the Nextflow head job.")
COMPUTE_QUEUE = typer.Option(None, help="Batch queue of the tasks (default: the head queue).")
HEAD_IMAGE = typer.Option(None, help="Container image of the head job.")
HEAD_VCPUS = typer.Option(None, help="vCPUs of the head job.")
HEAD_MEMORY = typer.Option(None, help="Memory of the head job, MiB.")
CLI_PATH = typer.Option(None, help="AWS CLI on the hosts (aws.batch.cliPath).")
NF_CONFIG = typer.Option(None, "--nextflow-config", help="File of extra Nextflow config.")
LOG_GROUP = typer.Option(None, help="CloudWatch log group of the jobs.")
ECR = typer.Option(None, "--ecr/--no-ecr", help="Pipelines pull images from ECR.")


@environments_app.command("list")
def environments_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.environments.list(tenant=tenant), as_json=as_json, columns=ENV_COLUMNS)


@environments_app.command("show")
def environments_show(name: str = ENV_ARG, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with client() as api:
        emit(api.environments.get(_resolve(api, name, tenant), tenant=tenant), as_json=as_json)


@environments_app.command("create")
def environments_create(
    name: str,
    region: str = REGION,
    account_id: str = ACCOUNT,
    role_arn: str = ROLE,
    access_key_id: str = KEY_ID,
    server_credentials: bool = SERVER,
    write_bucket: str = WRITE_BUCKET,
    write_prefix: str = WRITE_PREFIX,
    read_bucket: list[str] = READ_BUCKET,
    head_queue: str = HEAD_QUEUE,
    compute_queue: str = COMPUTE_QUEUE,
    head_image: str = HEAD_IMAGE,
    head_vcpus: int = HEAD_VCPUS,
    head_memory_mib: int = HEAD_MEMORY,
    cli_path: str = CLI_PATH,
    nextflow_config_file: Path = NF_CONFIG,
    log_group: str = LOG_GROUP,
    use_ecr: bool = ECR,
    is_default: bool = typer.Option(None, "--default", help="Make it the default."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Create an environment (admins). The first one becomes the default."""
    options = dict(locals())
    options.pop("tenant"), options.pop("as_json")
    from mantle.schemas.environments import EnvironmentCreate  # pydantic loads on use

    data = EnvironmentCreate.model_validate(_fields(options))
    with client() as api:
        emit(api.environments.create(data, tenant=tenant), as_json=as_json, columns=ENV_COLUMNS)


@environments_app.command("update")
def environments_update(
    name: str,
    region: str = REGION,
    account_id: str = ACCOUNT,
    role_arn: str = ROLE,
    access_key_id: str = KEY_ID,
    server_credentials: bool = SERVER,
    write_bucket: str = WRITE_BUCKET,
    write_prefix: str = WRITE_PREFIX,
    read_bucket: list[str] = READ_BUCKET,
    head_queue: str = HEAD_QUEUE,
    compute_queue: str = COMPUTE_QUEUE,
    head_image: str = HEAD_IMAGE,
    head_vcpus: int = HEAD_VCPUS,
    head_memory_mib: int = HEAD_MEMORY,
    cli_path: str = CLI_PATH,
    nextflow_config_file: Path = NF_CONFIG,
    log_group: str = LOG_GROUP,
    use_ecr: bool = ECR,
    is_default: bool = typer.Option(None, "--default", help="Make it the default."),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Change an environment (admins): only the options given change."""
    options = dict(locals())
    options.pop("tenant"), options.pop("as_json"), options.pop("name")
    from mantle.schemas.environments import EnvironmentUpdate

    data = EnvironmentUpdate.model_validate(_fields(options))
    with client() as api:
        updated = api.environments.update(name, data, tenant=tenant)
        emit(updated, as_json=as_json, columns=ENV_COLUMNS)


@environments_app.command("delete")
def environments_delete(
    name: str,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    tenant: str = TENANT,
) -> None:
    """Delete an environment (admins). Nothing in AWS is touched."""
    if not yes:
        typer.confirm(f"Delete environment {name}?", abort=True)
    with client() as api:
        api.environments.delete(name, tenant=tenant)
    out.print(f"deleted environment {name}")


@aws_app.command("external-id")
def external_id(tenant: str = TENANT, as_json: bool = JSON) -> None:
    """The external id your role's trust policy must require, and the server's principal."""
    with client() as api:
        emit(api.environments.aws_identity(tenant=tenant), as_json=as_json)


@aws_app.command("setup-kit")
def setup_kit(
    name: str = ENV_ARG,
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the documents to."),
    tenant: str = TENANT,
) -> None:
    """Write every document to set the environment up in AWS into a folder."""
    with client() as api:
        kit = api.environments.setup_kit(_resolve(api, name, tenant), tenant=tenant)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, content in kit.files.items():
        (out_dir / Path(file_name).name).write_text(content)
    out.print(f"wrote {len(kit.files)} files to {out_dir} (start with README.md)")


@aws_app.command("doctor")
def doctor(name: str = ENV_ARG, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Check the environment's live AWS setup. Exits 1 when a check fails."""
    with client() as api:
        report = api.environments.doctor(_resolve(api, name, tenant), tenant=tenant)
    if as_json:
        emit(report, as_json=True)
    else:
        emit(
            report.checks,
            as_json=False,
            columns=CHECK_COLUMNS,
            title=f"doctor: {report.environment}",
        )
        fails = sum(c.status == "fail" for c in report.checks)
        out.print("all checks passed" if report.ok else f"{fails} check(s) failed")
    if not report.ok:
        raise typer.Exit(1)


@aws_app.command("provision")
def provision(
    name: str = ENV_ARG,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing."),
    subnet: list[str] = typer.Option(None, help="Subnet of the hosts (repeat; default VPC's)."),
    security_group: list[str] = typer.Option(None, help="Security group (repeat)."),
    max_vcpus: int | None = typer.Option(
        None, help="Upper bound of the compute environment (default: keep; 256 when new)."
    ),
    docker_volume_gib: int | None = typer.Option(
        None, help="Each host's Docker volume in GiB (default: keep; 500 when new)."
    ),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Create the Batch side in AWS (admins): roles, launch template, compute environment,
    queue(s). Running it again changes nothing."""
    with client() as api:
        report = api.environments.provision(
            _resolve(api, name, tenant),
            dry_run=dry_run,
            subnet_ids=subnet,
            security_group_ids=security_group,
            max_vcpus=max_vcpus,
            docker_volume_gib=docker_volume_gib,
            tenant=tenant,
        )
    if as_json:
        emit(report, as_json=True)
        return
    title = f"{'plan' if dry_run else 'provisioned'}: {report.environment}"
    emit(report.actions, as_json=False, columns=ACTION_COLUMNS, title=title)
    out.print(
        "nothing to change" if not report.changed else ("would change" if dry_run else "changed")
    )


@aws_app.command("reencrypt")
def reencrypt(
    old_key: str = typer.Option(
        ...,
        "--old-key",
        envvar="MANTLE_OLD_SECRET_KEY",
        prompt="Previous MANTLE_SECRET_KEY",
        hide_input=True,
        help="The previous secret key (or MANTLE_OLD_SECRET_KEY); asked for when absent.",
    ),
) -> None:
    """Server side: re-encrypt every stored AWS secret under the current MANTLE_SECRET_KEY,
    after changing it. Safe to run again."""
    from mantle.cloud.aws import environments as service
    from mantle.cloud.aws.crypto import SecretBox
    from mantle.db import migrate
    from mantle.settings import load_settings

    settings = load_settings(create_secret_key=True)
    current = settings.secret_key.get_secret_value()
    new = SecretBox(current)
    db = migrate.open_current(settings.database.url)
    try:
        with db.session() as session:
            changed, already = service.reencrypt_all(session, new, SecretBox(current, old_key))
    finally:
        db.dispose()
    out.print(f"re-encrypted {changed} secret(s) under key {new.key_id}; {already} already were")
