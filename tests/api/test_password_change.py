"""Changing a password: needs a browser session or a write-scope token and the current
password (throttled like a login); ends the user's other browser sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mantle.accounts import bootstrap
from tests.factories import PASSWORD

CHANGE = "/api/v1/me/password"
NEW = "another secret"


def _change(client, current: str, **headers):
    return client.post(
        CHANGE, json={"current_password": current, "new_password": NEW}, headers=headers
    )


def _browser(app, factory, email: str) -> TestClient:
    client = TestClient(app)
    factory.browser_login(email, client)
    return client


def test_change_password_with_a_write_token(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    wrong = _change(api, "nope", **ann.headers)
    assert wrong.status_code == 401
    ok = _change(api, PASSWORD, **ann.headers)
    assert ok.status_code == 200, ok.text
    assert (
        api.post("/api/v1/auth/login", json={"email": ann.email, "password": NEW}).status_code
        == 200
    )
    old = api.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD})
    assert old.status_code == 401


def test_changing_the_first_start_password_removes_its_file(api, factory, settings):
    ann = factory.member("acme", "ann@example.com", "owner")
    password_file = settings.data_dir / bootstrap.INITIAL_PASSWORD_FILE
    password_file.write_text("someone else's\n")
    assert _change(api, PASSWORD, **ann.headers).status_code == 200
    assert password_file.exists()  # not this user's password: left alone
    password_file.write_text(NEW + "\n")
    assert _change(api, NEW, **ann.headers).status_code == 200
    assert not password_file.exists()


def test_read_scope_token_cannot_change_the_password(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner", scope="read")
    response = _change(api, PASSWORD, **ann.headers)
    assert response.status_code == 403
    assert "write-scope token" in response.json()["error"]["message"]
    login = api.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD})
    assert login.status_code == 200  # unchanged


def test_wrong_current_passwords_are_throttled(api, factory, settings):
    ann = factory.member("acme", "ann@example.com", "owner")
    for _ in range(settings.auth.login_max_failures):
        assert _change(api, "guess", **ann.headers).status_code == 401
    throttled = _change(api, PASSWORD, **ann.headers)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # The same counter as logins: guessing here locks logins from this address too.
    login = api.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD})
    assert login.status_code == 429


def test_change_ends_other_sessions_and_keeps_this_one(app, api, factory):
    factory.member("acme", "ann@example.com", "owner")
    here = _browser(app, factory, "ann@example.com")
    elsewhere = [_browser(app, factory, "ann@example.com") for _ in range(2)]
    for client in (here, *elsewhere):
        assert client.get("/api/v1/me").status_code == 200
    response = _change(here, PASSWORD, **{"X-CSRF-Token": here.cookies["mantle_csrf"]})
    assert response.status_code == 200, response.text
    assert response.json()["sessions_ended"] == 2
    assert "2 other browser session(s) ended" in response.json()["message"]
    assert here.get("/api/v1/me").status_code == 200
    for client in elsewhere:
        assert client.get("/api/v1/me").status_code == 401


def test_change_with_a_token_ends_every_browser_session(app, api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    browser = _browser(app, factory, "ann@example.com")
    response = _change(api, PASSWORD, **ann.headers)
    assert response.json()["sessions_ended"] == 1
    assert browser.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me", headers=ann.headers).status_code == 200  # tokens stay


def test_browser_change_needs_the_csrf_header(app, factory):
    factory.member("acme", "ann@example.com", "owner")
    browser = _browser(app, factory, "ann@example.com")
    assert _change(browser, PASSWORD).status_code == 403
