"""Settings: one tree from MANTLE_* variables, embedded defaults, refusal of unsafe prod."""

from __future__ import annotations

import logging
import re
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mantle.errors import ConfigurationError
from mantle.settings import DEV_SECRET_KEY, Settings, load_settings


def test_embedded_defaults(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.database.url == f"sqlite:///{tmp_path / 'mantle.db'}"
    assert settings.storage.root == (tmp_path / "objects").as_uri()
    assert settings.public_url == "http://127.0.0.1:8000"
    settings.check_safe()  # dev accepts the development key


def test_environment_variables_with_nested_groups(monkeypatch, tmp_path):
    monkeypatch.setenv("MANTLE_DATABASE__URL", "postgresql://u@db/mantle")
    monkeypatch.setenv("MANTLE_STORAGE__ROOT", "s3://bucket/prefix")
    monkeypatch.setenv("MANTLE_SERVER__PORT", "9000")
    monkeypatch.setenv("MANTLE_PUBLIC_URL", "https://mantle.example.com/")
    monkeypatch.setenv("MANTLE_ENV", "prod")
    monkeypatch.setenv("MANTLE_SECRET_KEY", "k" * 40)
    settings = Settings()
    assert settings.database.url == "postgresql://u@db/mantle"
    assert settings.storage.root == "s3://bucket/prefix"
    assert settings.server.port == 9000
    assert settings.public_url == "https://mantle.example.com"
    assert settings.secure_cookies
    settings.check_safe()
    assert "k" * 40 not in repr(settings)


@pytest.mark.parametrize("key", [None, "mantle-development-secret-key-change-me", "short"])
def test_prod_refuses_default_or_weak_secret_key(key):
    settings = Settings(env="prod", **({"secret_key": key} if key else {}))
    with pytest.raises(ConfigurationError, match="MANTLE_SECRET_KEY"):
        settings.check_safe()


def test_server_refuses_to_start_in_prod_with_default_key(tmp_path):
    from mantle.app import create_app

    with pytest.raises(ConfigurationError):
        create_app(Settings(env="prod", data_dir=tmp_path))


def test_bad_values_are_rejected(monkeypatch):
    monkeypatch.setenv("MANTLE_SERVER__PORT", "not-a-port")
    with pytest.raises(ValueError):
        Settings()


# --- the secret key: generated into the data directory, refused when weak on the network ---


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("MANTLE_SECRET_KEY", raising=False)
    monkeypatch.delenv("MANTLE_ENV", raising=False)


def test_first_start_generates_a_private_key_that_later_starts_reuse(no_env_key, tmp_path, caplog):
    from mantle.cloud.aws.crypto import SecretBox

    data_dir = tmp_path / "data"
    with caplog.at_level(logging.INFO, logger="mantle.settings"):
        first = load_settings(data_dir=data_dir, create_secret_key=True)
    key = first.secret_key.get_secret_value()
    assert key != DEV_SECRET_KEY and len(key) >= 32
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert str(key_file) in caplog.text and "generated" in caplog.text
    assert key not in caplog.text
    # A restart (server or `mantle worker`) reads the same key: stored AWS secrets stay readable.
    sealed = SecretBox(key).encrypt(b"aws secret", b"env-1")
    for create in (True, False):
        again = load_settings(data_dir=data_dir, create_secret_key=create)
        assert SecretBox(again.secret_key.get_secret_value()).decrypt(sealed, b"env-1") == (
            b"aws secret"
        )


def test_server_and_workers_starting_together_share_one_key(no_env_key, tmp_path):
    start = threading.Barrier(8)

    def first_start(_):
        start.wait()
        return load_settings(data_dir=tmp_path, create_secret_key=True).secret_key

    with ThreadPoolExecutor(8) as pool:
        keys = {k.get_secret_value() for k in pool.map(first_start, range(8))}
    assert len(keys) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temp files left


def test_commands_that_do_not_sign_never_create_the_key(no_env_key, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY
    assert not (tmp_path / "data").exists()


def test_an_explicit_key_wins_and_production_never_uses_the_generated_one(
    no_env_key, monkeypatch, tmp_path
):
    monkeypatch.setenv("MANTLE_SECRET_KEY", "e" * 40)
    settings = load_settings(data_dir=tmp_path, create_secret_key=True)
    assert settings.secret_key.get_secret_value() == "e" * 40
    monkeypatch.delenv("MANTLE_SECRET_KEY")
    prod = load_settings(data_dir=tmp_path, env="prod", create_secret_key=True)
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ConfigurationError, match="MANTLE_SECRET_KEY must be set"):
        prod.check_safe()


def test_a_truncated_key_file_is_refused(no_env_key, tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(ConfigurationError, match="no usable secret key"):
        load_settings(data_dir=tmp_path, create_secret_key=True)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "[::]", "mantle.lab.local"])
@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "short-key"])
def test_weak_keys_are_refused_on_addresses_others_can_reach(host, key):
    settings = Settings(secret_key=key, server={"host": host})
    with pytest.raises(ConfigurationError, match=f"refusing to listen on {re.escape(host)}"):
        settings.check_safe()
    Settings(secret_key="s" * 32, server={"host": host}).check_safe()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_the_development_key_is_accepted_on_loopback(host):
    Settings(server={"host": host}).check_safe()


def test_mantle_server_refuses_a_weak_key_on_all_interfaces(tmp_path):
    from typer.testing import CliRunner

    from mantle.cli.main import app

    env = {"MANTLE_DATA_DIR": str(tmp_path), "MANTLE_SECRET_KEY": "too-short"}
    result = CliRunner().invoke(app, ["server", "--host", "0.0.0.0"], env=env)
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigurationError)
    assert "refusing to listen on 0.0.0.0" in result.exception.message
    assert "too-short" not in result.exception.message


def test_password_hash_defaults_are_argon2s_own():
    import argon2

    defaults = Settings().auth.password_hash
    assert (defaults.time_cost, defaults.memory_cost, defaults.parallelism) == (
        argon2.DEFAULT_TIME_COST,
        argon2.DEFAULT_MEMORY_COST,
        argon2.DEFAULT_PARALLELISM,
    )
    assert not defaults.is_weak


def test_password_hash_cost_from_the_environment(monkeypatch):
    monkeypatch.setenv("MANTLE_AUTH__PASSWORD_HASH__TIME_COST", "1")
    monkeypatch.setenv("MANTLE_AUTH__PASSWORD_HASH__MEMORY_COST", "8")
    monkeypatch.setenv("MANTLE_AUTH__PASSWORD_HASH__PARALLELISM", "1")
    cheap = Settings().auth.password_hash
    assert (cheap.time_cost, cheap.memory_cost, cheap.parallelism) == (1, 8, 1)
    Settings().check_safe()  # fine outside production


@pytest.mark.parametrize(
    "cost",
    [
        {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        {"time_cost": 1, "memory_cost": 19456},  # OWASP wants t=2 at 19 MiB
        {"time_cost": 50, "memory_cost": 4096},  # too little memory whatever the passes
    ],
)
def test_prod_refuses_weak_password_hashing(cost):
    settings = Settings(env="prod", secret_key="k" * 40, auth={"password_hash": cost})
    with pytest.raises(ConfigurationError, match="PASSWORD_HASH"):
        settings.check_safe()


def test_prod_accepts_owasp_password_hashing():
    cost = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    Settings(env="prod", secret_key="k" * 40, auth={"password_hash": cost}).check_safe()


def test_memory_must_cover_the_lanes():
    with pytest.raises(ValueError, match="8 x parallelism"):
        Settings(auth={"password_hash": {"memory_cost": 8, "parallelism": 4}})


@pytest.mark.parametrize(
    ("env", "setting", "allowed"),
    [("dev", None, True), ("prod", None, False), ("prod", True, True), ("dev", False, False)],
)
def test_server_paths_as_pipeline_repositories_only_in_dev_unless_set(env, setting, allowed):
    settings = Settings(env=env, pipelines={"allow_local_repositories": setting})
    assert settings.allow_local_repositories is allowed
