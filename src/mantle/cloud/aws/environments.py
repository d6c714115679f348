"""Use cases for a tenant's AWS environments. Callers own the transaction (every function takes
an open session) and pass the `SecretBox` built from the server's secret key.

Secrets (access keys) are encrypted before they reach a row and decrypted only to build the
`AwsCredentials` of a connection; the public view says whether one is set, never what it is.
The tenant's external id is generated on first use and never changes.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.aws.connect import AwsConnection, connect
from mantle.aws.session import AwsCredentials
from mantle.cloud.aws.crypto import SecretBox
from mantle.db.models import SqlEnvironment, SqlTenant
from mantle.db.repositories import environments as env_repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mantle.schemas.environments import (
    CredentialKind,
    CredentialsPublic,
    EnvironmentCreate,
    EnvironmentPublic,
    EnvironmentUpdate,
    KeyCredentials,
    ReadBucketPublic,
    RoleCredentials,
    ServerCredentials,
    TenantAwsPublic,
    resolve_account,
)
from mantle.settings import AwsSettings

# Plain columns an update may set directly.
_SIMPLE_FIELDS = (
    "region", "write_bucket", "write_prefix", "head_queue", "compute_queue", "head_image",
    "head_vcpus", "head_memory_mib", "cli_path", "nextflow_config", "log_group", "use_ecr",
)  # fmt: skip


@dataclass(frozen=True)
class EnvironmentInUse:
    """An environment ready to act in AWS: its public view plus live credentials."""

    tenant: str
    public: EnvironmentPublic
    credentials: AwsCredentials = field(repr=False)

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Values that must never appear in any output (used to redact AWS messages)."""
        creds = self.credentials
        hidden = [s.get_secret_value() for s in (creds.secret_access_key, creds.session_token) if s]
        # The API shows only the key id's last 4 characters: keep messages to that too.
        return tuple([*hidden, creds.access_key_id] if creds.access_key_id else hidden)

    def connect(self, aws: AwsSettings) -> AwsConnection:
        return connect(
            self.credentials,
            self.public.region,
            endpoint_url=aws.endpoint_url,
            endpoints=aws.endpoint_urls,
        )


# --- the tenant's external id --------------------------------------------------------------


def external_id(session: Session, tenant_id: uuid.UUID) -> str:
    row = env_repo.get_tenant_aws(session, tenant_id)
    if row is not None:
        return row.external_id
    try:
        with session.begin_nested():
            return env_repo.add_tenant_aws(session, tenant_id, _new_external_id()).external_id
    except IntegrityError:
        # Another request created it first: theirs is the one.
        return env_repo.get_tenant_aws(session, tenant_id).external_id


def _new_external_id() -> str:
    return "mantle-" + secrets.token_hex(20)


def tenant_aws(session: Session, access: TenantAccess, aws: AwsSettings) -> TenantAwsPublic:
    return TenantAwsPublic(
        external_id=external_id(session, access.tenant_id),
        platform_principal_arn=aws.platform_principal_arn or None,
    )


# --- reading -------------------------------------------------------------------------------


def environment_public(row: SqlEnvironment, tenant_external_id: str) -> EnvironmentPublic:
    kind = CredentialKind(row.credentials_kind)
    credentials = CredentialsPublic(
        kind=kind,
        role_arn=row.role_arn,
        external_id=tenant_external_id if kind is CredentialKind.role else None,
        access_key_id_last4=row.access_key_last4,
        has_secret_key=row.secrets_ciphertext is not None,
    )
    fields = {name: getattr(row, name) for name in (*_SIMPLE_FIELDS, "id", "name")}
    return EnvironmentPublic(
        **fields,
        account_id=row.account_id,
        is_default=row.is_default,
        credentials=credentials,
        read_buckets=[ReadBucketPublic(**b) for b in row.read_buckets],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _get_row(session: Session, access: TenantAccess, name: str) -> SqlEnvironment:
    row = env_repo.get(session, access.tenant_id, name)
    if row is None:
        raise NotFoundError(f"environment '{name}' not found")
    return row


def find_row(session: Session, tenant_id: uuid.UUID, ref: str | uuid.UUID | None) -> SqlEnvironment:
    """The tenant's environment named `ref` (or with that id), or its default one when `ref`
    is None. Always within the tenant: another tenant's id is not found."""
    if ref is None:
        return _default_row(session, tenant_id)
    if isinstance(ref, uuid.UUID):
        row = env_repo.get_by_id(session, tenant_id, ref)
    else:
        row = env_repo.get(session, tenant_id, ref)
    if row is None:
        raise NotFoundError(f"environment '{ref}' not found")
    return row


def _default_row(session: Session, tenant_id: uuid.UUID) -> SqlEnvironment:
    rows = env_repo.list_for_tenant(session, tenant_id)
    default = next((r for r in rows if r.is_default), rows[0] if len(rows) == 1 else None)
    if default is None:
        raise NotFoundError(
            "this tenant has no default AWS environment; create one "
            "(`mantle aws environments create`) or name one"
        )
    return default


def list_environments(session: Session, access: TenantAccess) -> list[EnvironmentPublic]:
    ext = external_id(session, access.tenant_id)
    return [environment_public(r, ext) for r in env_repo.list_for_tenant(session, access.tenant_id)]


def get_environment(session: Session, access: TenantAccess, name: str) -> EnvironmentPublic:
    return environment_public(
        _get_row(session, access, name), external_id(session, access.tenant_id)
    )


# --- changing ------------------------------------------------------------------------------


def create_environment(
    session: Session,
    access: TenantAccess,
    data: EnvironmentCreate,
    box: SecretBox,
    aws: AwsSettings,
) -> EnvironmentPublic:
    if env_repo.get(session, access.tenant_id, data.name) is not None:
        raise ConflictError(f"an environment named '{data.name}' exists; choose another name")
    first = not env_repo.list_for_tenant(session, access.tenant_id)
    fields = data.model_dump(include=set(_SIMPLE_FIELDS))
    row = SqlEnvironment(
        id=uuid.uuid4(),
        tenant_id=access.tenant_id,
        name=data.name,
        account_id=data.account_id,
        is_default=data.is_default or first,
        read_buckets=[b.model_dump() for b in data.read_buckets],
        **fields,
    )
    _set_credentials(row, data.credentials, box, aws)
    env_repo.add(session, row)
    if row.is_default:
        env_repo.clear_default(session, access.tenant_id, keep=row.id)
    return environment_public(row, external_id(session, access.tenant_id))


def update_environment(
    session: Session,
    access: TenantAccess,
    name: str,
    data: EnvironmentUpdate,
    box: SecretBox,
    aws: AwsSettings,
) -> EnvironmentPublic:
    row = _get_row(session, access, name)
    changes = data.model_dump(include=set(_SIMPLE_FIELDS) & data.model_fields_set)
    for column, value in changes.items():
        if value is None:
            raise InvalidInputError(f"{column} cannot be empty")
        setattr(row, column, value)
    if data.read_buckets is not None:
        row.read_buckets = [b.model_dump() for b in data.read_buckets]
    if data.credentials is not None:
        _set_credentials(row, data.credentials, box, aws)
    _update_account(row, data)
    if data.is_default:
        row.is_default = True
        env_repo.clear_default(session, access.tenant_id, keep=row.id)
    session.flush()
    return environment_public(row, external_id(session, access.tenant_id))


def _update_account(row: SqlEnvironment, data: EnvironmentUpdate) -> None:
    """The account and a role ARN must keep agreeing: a role's account wins unless another
    account is asked for explicitly (which is then refused if they differ)."""
    credentials = RoleCredentials(role_arn=row.role_arn) if row.role_arn else ServerCredentials()
    fallback = None if row.role_arn else row.account_id
    try:
        row.account_id = resolve_account(credentials, data.account_id or fallback)
    except ValueError as e:
        raise InvalidInputError(str(e)) from e


def delete_environment(session: Session, access: TenantAccess, name: str) -> None:
    row = _get_row(session, access, name)
    session.delete(row)
    session.flush()
    if row.is_default:
        remaining = env_repo.list_for_tenant(session, access.tenant_id)
        if remaining:
            remaining[0].is_default = True


def _aad(row: SqlEnvironment) -> bytes:
    return f"mantle:aws-environment:{row.tenant_id}:{row.id}".encode()


def _set_credentials(row: SqlEnvironment, creds, box: SecretBox, aws: AwsSettings) -> None:
    row.credentials_kind = creds.kind
    row.role_arn = creds.role_arn if isinstance(creds, RoleCredentials) else None
    row.access_key_last4 = row.secrets_ciphertext = row.secrets_key_id = None
    if isinstance(creds, ServerCredentials):
        _check_server_credentials_allowed(aws)
    if isinstance(creds, KeyCredentials):
        payload = json.dumps(
            {
                "access_key_id": creds.access_key_id,
                "secret_access_key": creds.secret_access_key.get_secret_value(),
            }
        ).encode()
        row.secrets_ciphertext = box.encrypt(payload, _aad(row))
        row.secrets_key_id = box.key_id
        row.access_key_last4 = creds.access_key_id[-4:]


def _check_server_credentials_allowed(aws: AwsSettings) -> None:
    if not aws.allow_server_credentials:
        raise PermissionDeniedError(
            "this server does not let environments use its own AWS credentials "
            "(MANTLE_AWS__ALLOW_SERVER_CREDENTIALS); use a role or an access key"
        )


# --- using ---------------------------------------------------------------------------------


def load_for_use(
    session: Session, access: TenantAccess, name: str, box: SecretBox, aws: AwsSettings
) -> EnvironmentInUse:
    return in_use(session, _get_row(session, access, name), box, aws)


def in_use(
    session: Session, row: SqlEnvironment, box: SecretBox, aws: AwsSettings
) -> EnvironmentInUse:
    """`row` with its credentials decrypted. Callers have checked who may use it."""
    tenant = session.get(SqlTenant, row.tenant_id).slug
    ext = external_id(session, row.tenant_id)
    return EnvironmentInUse(
        tenant=tenant,
        public=environment_public(row, ext),
        credentials=_credentials(row, box, ext, tenant, aws),
    )


def _credentials(
    row: SqlEnvironment, box: SecretBox, ext: str, tenant: str, aws: AwsSettings
) -> AwsCredentials:
    kind = CredentialKind(row.credentials_kind)
    if kind is CredentialKind.role:
        session_name = f"mantle-{tenant}"[:64]
        return AwsCredentials(
            role_arn=row.role_arn, external_id=ext, role_session_name=session_name
        )
    if kind is CredentialKind.keys:
        values = json.loads(box.decrypt(row.secrets_ciphertext, _aad(row)))
        return AwsCredentials(**values)
    _check_server_credentials_allowed(aws)
    return AwsCredentials()


def reencrypt_all(session: Session, new: SecretBox, old: SecretBox) -> tuple[int, int]:
    """Re-seal every stored secret under `new`'s key. `old` must know the previous key(s).
    All or nothing: one undecryptable row fails the whole transaction. Returns (changed,
    already current)."""
    changed = current = 0
    for row in env_repo.with_secrets(session):
        if row.secrets_key_id == new.key_id:
            current += 1
            continue
        plaintext = old.decrypt(row.secrets_ciphertext, _aad(row))
        row.secrets_ciphertext = new.encrypt(plaintext, _aad(row))
        row.secrets_key_id = new.key_id
        changed += 1
    return changed, current
