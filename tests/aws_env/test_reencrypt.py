"""Changing MANTLE_SECRET_KEY: `mantle aws reencrypt` moves every stored secret to the new key
(SQLite and PostgreSQL), all or nothing, safe to repeat, printing no key."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mantle.cli.main import app as cli_app
from mantle.cloud.aws import environments as service
from mantle.cloud.aws.crypto import SecretBox
from mantle.db.models import SqlEnvironment
from mantle.db.repositories import tenants as tenant_repo
from mantle.errors import ConfigurationError
from tests.aws_env.conftest import SECRET
from tests.conftest import TEST_SECRET_KEY

NEW_KEY = "rotated-secret-key-0123456789-abcdefghijklmnop"


class _Access:
    """The slice of TenantAccess the service reads."""

    def __init__(self, tenant) -> None:
        self.tenant, self.tenant_id = tenant, tenant.id


def load(database, settings, box: SecretBox):
    with database.session() as session:
        access = _Access(tenant_repo.get_by_slug(session, "acme"))
        return service.load_for_use(session, access, "prod", box, settings.aws)


@pytest.fixture
def stored(api, factory, aws_setup, database) -> None:
    admin = factory.member("acme", "alice@example.com", "admin")
    assert (
        api.post(
            "/api/v1/tenants/acme/environments", json=aws_setup.body(), headers=admin.headers
        ).status_code
        == 201
    )


def reencrypt(migrated_url: str, new_key: str, old_key: str):
    env = {
        "MANTLE_DATABASE__URL": migrated_url,
        "MANTLE_SECRET_KEY": new_key,
        "MANTLE_OLD_SECRET_KEY": old_key,
    }
    return CliRunner().invoke(cli_app, ["aws", "reencrypt"], env=env)


def test_reencrypt_moves_secrets_to_the_new_key(stored, database, settings, migrated_url) -> None:
    result = reencrypt(migrated_url, NEW_KEY, TEST_SECRET_KEY)
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 secret(s)" in result.output
    assert NEW_KEY not in result.output and TEST_SECRET_KEY not in result.output
    creds = load(database, settings, SecretBox(NEW_KEY)).credentials
    assert creds.secret_access_key.get_secret_value() == SECRET
    with pytest.raises(ConfigurationError, match="reencrypt"):
        load(database, settings, SecretBox(TEST_SECRET_KEY))
    with database.session() as session:
        assert session.scalar(select(SqlEnvironment)).secrets_key_id == SecretBox(NEW_KEY).key_id

    again = reencrypt(migrated_url, NEW_KEY, TEST_SECRET_KEY)
    assert again.exit_code == 0 and "re-encrypted 0 secret(s)" in again.output
    assert "1 already were" in again.output


def test_a_wrong_old_key_changes_nothing(stored, database, settings, migrated_url) -> None:
    result = reencrypt(migrated_url, NEW_KEY, "not-the-old-key-0123456789-abcdefghijkl")
    assert result.exit_code != 0
    assert "not-the-old-key" not in result.output
    creds = load(database, settings, SecretBox(TEST_SECRET_KEY)).credentials
    assert creds.secret_access_key.get_secret_value() == SECRET
