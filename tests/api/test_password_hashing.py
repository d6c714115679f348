"""Password hashing at the configured argon2 cost: hashes made with other parameters keep
verifying, and are upgraded at the next login."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select, update

from mantle.accounts.secrets import Passwords
from mantle.db.models import SqlUser
from mantle.settings import PasswordHashSettings
from tests.factories import PASSWORD

CHEAPEST = "$argon2id$v=19$m=8,t=1,p=1$"


def test_hashes_carry_the_configured_cost():
    passwords = Passwords(PasswordHashSettings(time_cost=2, memory_cost=64, parallelism=2))
    hashed = passwords.hash("secret!!")
    assert hashed.startswith("$argon2id$v=19$m=64,t=2,p=2$")
    assert passwords.verify(hashed, "secret!!")
    assert not passwords.verify(hashed, "other")
    assert not passwords.verify(None, "secret!!")  # an unknown email
    assert not passwords.verify("not a hash", "secret!!")


def test_test_settings_hash_cheaply(settings):
    assert settings.auth.password_hash.memory_cost == 8
    assert Passwords(settings.auth.password_hash).hash("x").startswith(CHEAPEST)


def test_old_hash_still_logs_in_and_is_upgraded(api, factory, database, settings):
    factory.user("ann@example.com")
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    with database.session() as s:
        s.execute(update(SqlUser).values(password_hash=older))
    credentials = {"email": "ann@example.com", "password": PASSWORD}
    assert api.post("/api/v1/auth/login", json=credentials).status_code == 200
    with database.session() as s:
        upgraded = s.scalar(select(SqlUser.password_hash))
    assert upgraded != older and upgraded.startswith(CHEAPEST)
    assert api.post("/api/v1/auth/login", json=credentials).status_code == 200
