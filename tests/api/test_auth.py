"""Authentication and authorization through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from mantle.db.models import SqlApiToken, SqlUser
from tests.factories import PASSWORD


def test_login_sets_http_only_session_cookie(api, factory):
    factory.tenant("acme", "ann@example.com")
    response = api.post(
        "/api/v1/auth/login", json={"email": "ANN@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("mantle_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith("mantle_csrf="))
    assert "HttpOnly" not in csrf_cookie
    assert api.get("/api/v1/me").json()["user"]["email"] == "ann@example.com"


def test_login_sent_by_another_site_is_refused(api, factory, settings):
    """Login CSRF: a page elsewhere posting its owner's password would sign the visitor in as
    that owner (whatever they then upload lands in the attacker's tenant)."""
    factory.user("ann@example.com")
    body = {"email": "ann@example.com", "password": PASSWORD}
    for headers in (
        {"Origin": "https://evil.example.com"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.testserver"},
    ):
        refused = api.post("/api/v1/auth/login", json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert "another site" in refused.json()["error"]["message"]
        assert "mantle_session" not in refused.headers.get("set-cookie", "")
    # This site (as the test client or as the configured public URL; our pages' no-referrer
    # policy makes the browser send `Origin: null`), or no browser at all.
    for headers in (
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": settings.public_url},
        {},
    ):
        assert api.post("/api/v1/auth/login", json=body, headers=headers).status_code == 200


def test_wrong_password_and_unknown_email_answer_the_same(api, factory):
    factory.user("ann@example.com")
    wrong = api.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "nope"})
    unknown = api.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthenticated"
    assert "mantle_session" not in wrong.cookies


def test_secure_cookies_behind_https(settings, database):
    from fastapi.testclient import TestClient

    from mantle.app import create_app
    from tests.factories import Factory

    settings.public_url = "https://mantle.example.com"
    with TestClient(create_app(settings, db=database), base_url="https://testserver") as client:
        Factory(database, client).user("ann@example.com")
        response = client.post(
            "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
        )
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_cookie_session_needs_csrf_header_for_changes(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    without = api.post("/api/v1/tenants/acme/tokens", json={"name": "x"})
    assert without.status_code == 403
    assert without.json()["error"]["code"] == "csrf_failed"
    wrong = api.post(
        "/api/v1/tenants/acme/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    right = api.post(
        "/api/v1/tenants/acme/tokens",
        json={"name": "x"},
        headers={"X-CSRF-Token": api.cookies["mantle_csrf"]},
    )
    assert right.status_code == 201, right.text
    assert api.get("/api/v1/tenants/acme/tokens").status_code == 200  # reads need no CSRF


def test_logout_ends_the_session(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    assert api.get("/api/v1/me").status_code == 200
    stolen = api.cookies["mantle_session"]
    assert api.post("/api/v1/auth/logout").status_code == 204
    api.cookies.set("mantle_session", stolen)
    assert api.get("/api/v1/me").status_code == 401


def test_token_is_shown_once_and_stored_hashed(api, factory, database):
    ann = factory.member("acme", "ann@example.com", "owner")
    created = api.post(
        "/api/v1/tenants/acme/tokens", json={"name": "ci", "scope": "read"}, headers=ann.headers
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("mtk_")
    listed = api.get("/api/v1/tenants/acme/tokens", headers=ann.headers).json()
    assert all("token" not in t for t in listed)
    assert secret not in str(listed)
    with database.session() as s:
        stored = [row.token_hash for row in s.query(SqlApiToken)]
    assert secret not in stored and len(stored) == 2
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["tenant"]["slug"] == "acme" and me["token_scope"] == "read"


def test_revoked_token_is_refused(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    other = api.post(
        "/api/v1/tenants/acme/tokens", json={"name": "laptop"}, headers=ann.headers
    ).json()
    bearer = {"Authorization": f"Bearer {other['token']}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    revoked = api.delete(f"/api/v1/tenants/acme/tokens/{other['id']}", headers=ann.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = api.get("/api/v1/me", headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    # Revoking again is harmless.
    again = api.delete(f"/api/v1/tenants/acme/tokens/{other['id']}", headers=ann.headers)
    assert again.status_code == 200


def test_expired_token_is_refused(api, factory, database):
    ann = factory.member("acme", "ann@example.com", "owner", expires_in_days=1)
    assert api.get("/api/v1/me", headers=ann.headers).status_code == 200
    with database.session() as s:
        s.execute(update(SqlApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused = api.get("/api/v1/me", headers=ann.headers)
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]


def test_token_expiry_in_the_past_is_refused(api, factory):
    ann = factory.member("acme", "ann@example.com", "owner")
    response = api.post(
        "/api/v1/tenants/acme/tokens",
        json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"},
        headers=ann.headers,
    )
    assert response.status_code == 422
    assert "past" in response.json()["error"]["message"]


def test_garbage_token_is_refused(api):
    response = api.get("/api/v1/me", headers={"Authorization": "Bearer mtk_nonsense"})
    assert response.status_code == 401
    assert api.get("/api/v1/me").status_code == 401


def test_read_scope_token_refused_a_write(api, factory):
    factory.member("acme", "owner@example.com", "owner")
    reader = factory.member("acme", "ann@example.com", "admin", scope="read")
    assert api.get("/api/v1/tenants/acme/members", headers=reader.headers).status_code == 200
    refused = api.patch("/api/v1/tenants/acme", json={"name": "New"}, headers=reader.headers)
    assert refused.status_code == 403
    assert "read scope" in refused.json()["error"]["message"]
    minted = api.post(
        "/api/v1/tenants/acme/tokens", json={"name": "escalate"}, headers=reader.headers
    )
    assert minted.status_code == 403


def test_viewer_refused_a_write(api, factory):
    factory.member("acme", "owner@example.com", "owner")
    viewer = factory.member("acme", "vic@example.com", "viewer")
    factory.user("new@example.com")
    assert api.get("/api/v1/tenants/acme", headers=viewer.headers).json()["role"] == "viewer"
    for method, path, body in [
        ("PATCH", "/api/v1/tenants/acme", {"name": "Renamed"}),
        ("POST", "/api/v1/tenants/acme/invitations", {"email": "new@example.com"}),
    ]:
        response = api.request(method, path, json=body, headers=viewer.headers)
        assert response.status_code == 403, (path, response.text)
        assert "viewer" in response.json()["error"]["message"]


def test_repeated_failed_logins_are_throttled(api, factory, settings):
    factory.user("ann@example.com")
    factory.user("bob@example.com")
    limit = settings.auth.login_max_failures
    for _ in range(limit):
        bad = api.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "x"})
        assert bad.status_code == 401
    throttled = api.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "rate_limited"
    # The password->token exchange shares the same throttle.
    cli = api.post("/api/v1/auth/token", json={"email": "ann@example.com", "password": PASSWORD})
    assert cli.status_code == 429
    # Another account is not locked by ann's failures.
    ok = api.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    assert ok.status_code == 200


def test_success_clears_the_failure_count(api, factory, settings):
    factory.user("ann@example.com")
    for _ in range(settings.auth.login_max_failures - 1):
        api.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "x"})
    assert (
        api.post(
            "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )
    for _ in range(settings.auth.login_max_failures - 1):
        api.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "x"})
    assert (
        api.post(
            "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_deactivated_user_cannot_use_tokens(api, factory, database):
    ann = factory.member("acme", "ann@example.com", "owner")
    with database.session() as s:
        s.execute(update(SqlUser).values(is_active=False))
    assert api.get("/api/v1/me", headers=ann.headers).status_code == 401


def test_password_exchange_for_cli_token(api, factory):
    factory.member("acme", "ann@example.com", "member")
    response = api.post(
        "/api/v1/auth/token", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["tenant"]["slug"] == "acme" and me["token_scope"] == "write"


def test_password_exchange_needs_a_tenant_choice_when_several(api, factory):
    factory.member("acme", "ann@example.com", "member")
    factory.member("beta", "ann@example.com", "viewer")
    vague = api.post("/api/v1/auth/token", json={"email": "ann@example.com", "password": PASSWORD})
    assert vague.status_code == 422 and "acme, beta" in vague.json()["error"]["message"]
    chosen = api.post(
        "/api/v1/auth/token",
        json={"email": "ann@example.com", "password": PASSWORD, "tenant": "beta"},
    )
    assert chosen.status_code == 201
    foreign = api.post(
        "/api/v1/auth/token",
        json={"email": "ann@example.com", "password": PASSWORD, "tenant": "gamma"},
    )
    assert foreign.status_code == 404


def test_password_exchange_without_a_tenant_says_how_to_get_one(api, factory):
    factory.user("root@example.com", superuser=True)
    body = {"email": "root@example.com", "password": PASSWORD}
    response = api.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422
    assert "mantle tenants invite" in response.json()["error"]["message"]


@pytest.mark.parametrize("scope", ["read", "write"])
def test_token_only_reaches_its_own_tenant(api, factory, scope):
    factory.member("beta", "ann@example.com", "owner")
    ann_acme = factory.member("acme", "ann@example.com", "owner", scope=scope)
    # Ann owns beta too, but her acme token must not reach it.
    assert api.get("/api/v1/tenants/beta", headers=ann_acme.headers).status_code == 404
    slugs = [t["slug"] for t in api.get("/api/v1/tenants", headers=ann_acme.headers).json()]
    assert slugs == ["acme"]


def test_token_expiry_is_capped(api, factory, settings):
    ann = factory.member("acme", "ann@example.com", "owner")
    limit = settings.auth.token_max_days
    for body in [
        {"name": "far", "expires_in_days": limit + 1},
        {"name": "far", "expires_in_days": 3_000_000},
        {"name": "far", "expires_in_days": 0},
        {"name": "far", "expires_at": "9999-12-31T00:00:00Z"},
    ]:
        response = api.post("/api/v1/tenants/acme/tokens", json=body, headers=ann.headers)
        assert response.status_code == 422, (body, response.text)
    ok = api.post(
        "/api/v1/tenants/acme/tokens",
        json={"name": "year", "expires_in_days": limit},
        headers=ann.headers,
    )
    assert ok.status_code == 201


def test_token_expiry_limit_is_a_setting(settings, database):
    from fastapi.testclient import TestClient

    from mantle.app import create_app
    from tests.factories import Factory

    settings.auth.token_max_days = 30
    with TestClient(create_app(settings, db=database)) as client:
        ann = Factory(database, client).member("acme", "ann@example.com", "owner")
        too_long = client.post(
            "/api/v1/tenants/acme/tokens",
            json={"name": "x", "expires_in_days": 31},
            headers=ann.headers,
        )
    assert too_long.status_code == 422 and "30" in too_long.json()["error"]["message"]
