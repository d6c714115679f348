"""Login throttling: an atomic counter taken before the password is checked; per (account,
address) pair, per address and per account; `X-Forwarded-For` only from trusted proxies."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from mantle.accounts import authn
from mantle.accounts.secrets import Passwords
from mantle.api import proxies
from mantle.app import create_app
from mantle.errors import AuthenticationError, RateLimitedError
from tests.factories import PASSWORD

LOGIN = "/api/v1/auth/login"


def _login(client, email: str, password: str, **headers):
    return client.post(LOGIN, json={"email": email, "password": password}, headers=headers)


class CountingPasswords(Passwords):
    """Counts (and slows) password checks, so that a race has room to happen."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, password_hash, password) -> bool:
        with self._lock:
            self.checks += 1
        time.sleep(0.05)
        return super().verify(password_hash, password)


def test_concurrent_wrong_passwords_check_at_most_the_limit(database, settings, factory):
    factory.user("ann@example.com")
    passwords = CountingPasswords(settings.auth.password_hash)
    limit = settings.auth.login_max_failures

    def attempt(_):
        try:
            authn.login_with_password(
                database, settings.auth, passwords, "ann@example.com", "wrong", "10.1.1.1"
            )
        except (AuthenticationError, RateLimitedError) as e:
            return type(e)

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert passwords.checks <= limit
    assert outcomes.count(AuthenticationError) == passwords.checks
    assert outcomes.count(RateLimitedError) == 12 - passwords.checks


def test_concurrent_wrong_passwords_through_the_api(api, factory, settings):
    factory.user("ann@example.com")
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(lambda _: _login(api, "ann@example.com", "x").status_code, range(12))
        )
    assert statuses.count(401) <= settings.auth.login_max_failures
    assert set(statuses) <= {401, 429} and 429 in statuses


def test_one_address_guessing_locks_only_itself(settings, database):
    settings.server.trusted_proxies = ["10.0.0.0/8"]
    app = create_app(settings, db=database)
    with TestClient(app, client=("10.0.0.1", 4000)) as proxy:
        from tests.factories import Factory

        factory = Factory(database, proxy)
        factory.user("ann@example.com")
        factory.user("bob@example.com")
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        for _ in range(settings.auth.login_max_failures):
            assert _login(proxy, "ann@example.com", "x", **attacker).status_code == 401
        locked = _login(proxy, "ann@example.com", PASSWORD, **attacker)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        # Ann herself, from her own address, and Bob from his, are not locked out.
        assert (
            _login(
                proxy, "ann@example.com", PASSWORD, **{"X-Forwarded-For": "198.51.100.2"}
            ).status_code
            == 200
        )
        assert (
            _login(
                proxy, "bob@example.com", PASSWORD, **{"X-Forwarded-For": "198.51.100.3"}
            ).status_code
            == 200
        )


def test_account_guessed_at_from_many_addresses_is_locked(settings, database):
    settings.server.trusted_proxies = ["10.0.0.1"]
    settings.auth.login_account_max_failures = 6
    with TestClient(create_app(settings, db=database), client=("10.0.0.1", 4000)) as proxy:
        from tests.factories import Factory

        Factory(database, proxy).user("ann@example.com")
        for i in range(6):
            response = _login(
                proxy, "ann@example.com", "x", **{"X-Forwarded-For": f"203.0.113.{i}"}
            )
            assert response.status_code == 401
        for address in ("203.0.113.99", "198.51.100.2"):
            refused = _login(proxy, "ann@example.com", PASSWORD, **{"X-Forwarded-For": address})
            assert refused.status_code == 429


def test_one_address_spraying_many_accounts_is_locked(settings, database):
    settings.auth.login_client_max_failures = 3
    with TestClient(create_app(settings, db=database)) as client:
        for i in range(3):
            assert _login(client, f"user{i}@example.com", "x").status_code == 401
        assert _login(client, "user9@example.com", "x").status_code == 429


def test_forwarded_for_is_ignored_from_untrusted_peers(api, factory, settings):
    """Rotating X-Forwarded-For does not earn a fresh allowance (the default trusts no proxy)."""
    factory.user("ann@example.com")
    for i in range(settings.auth.login_max_failures):
        spoofed = {"X-Forwarded-For": f"192.0.2.{i}"}
        assert _login(api, "ann@example.com", "x", **spoofed).status_code == 401
    assert (
        _login(api, "ann@example.com", "x", **{"X-Forwarded-For": "192.0.2.99"}).status_code == 429
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", ["1.2.3.4"], "203.0.113.7"),  # not a proxy: header ignored
        ("10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client's own claim is skipped
        ("10.0.0.1", ["6.6.6.6, 1.2.3.4, 10.0.0.2"], "1.2.3.4"),  # a chain of proxies
        ("10.0.0.1", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # repeated headers
        ("10.0.0.1", [], "10.0.0.1"),
        ("testclient", ["1.2.3.4"], "testclient"),
    ],
)
def test_client_address(peer, forwarded, expected):
    assert (
        proxies.client_address(peer, forwarded, proxies.trusted_networks(["10.0.0.0/8"]))
        == expected
    )


def test_trusted_proxies_setting_is_validated():
    from mantle.settings import Settings

    with pytest.raises(ValueError, match="not an IP address"):
        Settings(server={"trusted_proxies": ["proxy.example.com"]})


def test_forwarded_for_from_loopback_is_ignored_by_the_live_server(live_server):
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default; the server turns that off."""
    email = "xff-probe@example.com"
    statuses = [
        httpx.post(
            f"{live_server.url}{LOGIN}",
            json={"email": email, "password": "x"},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
        ).status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
