"""Settings: one tree from MANTLE_* variables, embedded defaults, refusal of unsafe prod."""

from __future__ import annotations

import pytest

from mantle.errors import ConfigurationError
from mantle.settings import Settings


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
    from mantle.api.app import create_app

    with pytest.raises(ConfigurationError):
        create_app(Settings(env="prod", data_dir=tmp_path))


def test_bad_values_are_rejected(monkeypatch):
    monkeypatch.setenv("MANTLE_SERVER__PORT", "not-a-port")
    with pytest.raises(ValueError):
        Settings()
