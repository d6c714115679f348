"""The environment service that background code uses without a user: it loads a tenant's
environment by name, id or default, decrypts its credentials, and caches one AWS connection
per environment until the environment is edited. A tenant never reaches another's."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from mantle.accounts.policy import Permission, Principal, Role, TenantAccess
from mantle.catalog.read_buckets import ReadBuckets
from mantle.cloud.aws import environments
from mantle.cloud.aws.crypto import SecretBox
from mantle.cloud.aws.environment_service import EnvironmentService
from mantle.db.models import SqlTenant
from mantle.errors import NotFoundError
from mantle.schemas.environments import EnvironmentCreate, EnvironmentUpdate, KeyCredentials
from mantle.settings import AwsSettings
from tests.conftest import TEST_SECRET_KEY

BOX = SecretBox(TEST_SECRET_KEY)
AWS = AwsSettings()


def keys(key_id: str) -> KeyCredentials:
    return KeyCredentials(access_key_id=key_id, secret_access_key=SecretStr(f"secret-of-{key_id}"))


def tenant_access(database, slug: str) -> TenantAccess:
    with database.session() as s:
        tenant = SqlTenant(slug=slug, name=slug)
        s.add(tenant)
        s.flush()
    principal = Principal(user_id=uuid.uuid4(), email=f"admin@{slug}.example", is_superuser=False)
    return TenantAccess(tenant, principal, Role.owner, frozenset(Permission))


def create(database, access: TenantAccess, key_id: str, name: str = "prod", **fields):
    data = EnvironmentCreate(
        name=name, region="eu-west-1", account_id="123456789012", credentials=keys(key_id),
        write_bucket="acme-write", head_queue="head",
        read_buckets=[{"bucket": "acme-raw", "prefix": "runs"}],
        **fields,
    )  # fmt: skip
    with database.session() as s:
        return environments.create_environment(s, access, data, BOX, AWS)


def access_key_of(connection) -> str:
    return connection.session.get_credentials().access_key


@pytest.fixture
def service() -> EnvironmentService:
    return EnvironmentService(BOX, AWS)


@pytest.fixture
def acme(database) -> TenantAccess:
    return tenant_access(database, "acme")


def test_a_connection_is_made_once_and_reused(database, service, acme):
    env = create(database, acme, "AKIAACMEFIRST0000001")
    with database.session() as s:
        first_env, first = service.connect(s, acme.tenant_id, "prod")
        _, by_id = service.connect(s, acme.tenant_id, env.id)
        _, by_default = service.connect(s, acme.tenant_id, None)
    assert by_id is first and by_default is first
    assert access_key_of(first) == "AKIAACMEFIRST0000001"
    assert first_env.credentials.secret_access_key.get_secret_value() == (
        "secret-of-AKIAACMEFIRST0000001"
    )


def test_editing_the_environment_invalidates_its_connection(database, service, acme):
    create(database, acme, "AKIAACMEFIRST0000001")
    with database.session() as s:
        _, before = service.connect(s, acme.tenant_id, "prod")
    with database.session() as s:
        update = EnvironmentUpdate(credentials=keys("AKIAACMEROTATED00002"))
        environments.update_environment(s, acme, "prod", update, BOX, AWS)
    with database.session() as s:
        _, after = service.connect(s, acme.tenant_id, "prod")
    assert after is not before
    assert access_key_of(after) == "AKIAACMEROTATED00002"


def test_a_tenant_never_resolves_another_tenants_environment(database, service, acme):
    acme_env = create(database, acme, "AKIAACMEFIRST0000001")
    other = tenant_access(database, "other")
    with database.session() as s:
        service.connect(s, acme.tenant_id, "prod")  # acme's connection is in the cache
        for ref in ("prod", acme_env.id, None):
            with pytest.raises(NotFoundError):
                service.connect(s, other.tenant_id, ref)
    create(database, other, "AKIAOTHERTENANT00003")
    with database.session() as s:
        other_env, connection = service.connect(s, other.tenant_id, "prod")
        with pytest.raises(NotFoundError):
            service.load(s, other.tenant_id, acme_env.id)
    assert other_env.public.id != acme_env.id
    assert access_key_of(connection) == "AKIAOTHERTENANT00003"


def test_read_buckets_use_the_cached_connection(database, service, acme, monkeypatch):
    create(database, acme, "AKIAACMEFIRST0000001")
    made = []
    original = environments.EnvironmentInUse.connect

    def counted(self, aws):
        made.append(self.public.name)
        return original(self, aws)

    monkeypatch.setattr(environments.EnvironmentInUse, "connect", counted)
    buckets = ReadBuckets(service)
    with database.session() as s:
        first = buckets.open(s, acme, None, "acme-raw")
        second = buckets.open(s, acme, "prod", "acme-raw")
        with pytest.raises(NotFoundError, match="not a read bucket of environment 'prod'"):
            buckets.open(s, acme, None, "elsewhere")
    assert made == ["prod"]
    assert (first.bucket, first.prefix, second.prefix) == ("acme-raw", "runs/", "runs/")
