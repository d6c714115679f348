"""Server-rendered pages through the test client, on both databases."""

from __future__ import annotations

from tests.factories import PASSWORD


def test_pages_need_a_login(api):
    response = api.get("/t/acme", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/t/acme"


def test_login_form_logs_in_and_redirects(api, factory):
    factory.tenant("acme", "ann@example.com")
    bad = api.post("/login", data={"email": "ann@example.com", "password": "x"})
    assert bad.status_code == 401 and "wrong email or password" in bad.text
    ok = api.post(
        "/login",
        data={"email": "ann@example.com", "password": PASSWORD, "next": "/t/acme"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/t/acme"
    page = api.get("/t/acme")
    assert page.status_code == 200 and "ann@example.com" in page.text


def test_login_next_cannot_redirect_off_site(api, factory):
    factory.user("ann@example.com")
    for target in ["https://evil.example.com", "//evil.example.com", "/\\evil.example.com"]:
        response = api.post(
            "/login",
            data={"email": "ann@example.com", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_forms_need_the_csrf_token(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    forged = api.post("/t/acme/tokens", data={"name": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    page = api.get("/t/acme").text
    assert "forged" not in page
    csrf = api.cookies["mantle_csrf"]
    made = api.post("/t/acme/tokens", data={"name": "mine", "csrf_token": csrf})
    assert made.status_code == 200 and "mtk_" in made.text


def test_token_form_rejects_bad_expiry_without_losing_the_page(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    csrf = api.cookies["mantle_csrf"]
    response = api.post(
        "/t/acme/tokens", data={"name": "x", "expires_in_days": "soon", "csrf_token": csrf}
    )
    assert response.status_code == 422 and "invalid token settings" in response.text
    assert "mtk_" not in response.text


def test_unknown_tenant_page_is_404_html(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    response = api.get("/t/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_forms_redirect_after_post_with_a_flash_shown_once(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    csrf = api.cookies["mantle_csrf"]
    made = api.post(
        "/t/acme/tokens", data={"name": "ci", "csrf_token": csrf}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"] == "/t/acme"
    assert "mtk_" not in made.text and "mtk_" not in made.headers["set-cookie"]  # encrypted
    shown = api.get("/t/acme")
    assert shown.status_code == 200 and 'data-testid="token-value">mtk_' in shown.text
    assert shown.headers["cache-control"] == "no-store"
    again = api.get("/t/acme")  # a refresh neither resubmits nor shows the token again
    assert 'data-testid="token-value"' not in again.text
    assert again.text.count("<td>ci</td>") == 1

    invited = api.post(
        "/t/acme/invitations",
        data={"email": "bob@example.com", "role": "member", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert invited.status_code == 303 and invited.headers["location"] == "/t/acme"
    assert 'data-testid="invitation-token">mti_' in api.get("/t/acme").text
    assert "mti_" not in api.get("/t/acme").text


def test_a_flash_is_only_readable_by_its_own_session(api, factory, app):
    from fastapi.testclient import TestClient

    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    made = api.post(
        "/t/acme/tokens",
        data={"name": "ci", "csrf_token": api.cookies["mantle_csrf"]},
        follow_redirects=False,
    )
    stolen = made.cookies["mantle_flash"]
    with TestClient(app) as other:
        factory.browser_login("ann@example.com", other)
        other.cookies.set("mantle_flash", stolen)
        assert 'data-testid="token-value"' not in other.get("/t/acme").text


def test_admin_invites_from_the_tenant_page_and_revokes(api, factory):
    factory.tenant("acme", "ann@example.com")
    factory.user("known@example.com")
    factory.browser_login("ann@example.com")
    csrf = api.cookies["mantle_csrf"]
    pages = [
        api.post("/t/acme/invitations", data={"email": email, "role": "viewer", "csrf_token": csrf})
        for email in ("known@example.com", "unknown@example.com")
    ]
    assert [p.status_code for p in pages] == [200, 200]
    assert all("mti_" in p.text for p in pages)
    page = api.get("/t/acme").text
    assert "mti_" not in page  # the token was shown once
    assert "known@example.com" in page and "unknown@example.com" in page
    invitation_id = api.get("/api/v1/tenants/acme/invitations").json()[0]["id"]
    revoked = api.post(
        f"/t/acme/invitations/{invitation_id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert len(api.get("/api/v1/tenants/acme/invitations").json()) == 1


def test_token_form_refuses_an_expiry_beyond_the_limit(api, factory, settings):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    days = str(settings.auth.token_max_days + 1)
    response = api.post(
        "/t/acme/tokens",
        data={"name": "x", "expires_in_days": days, "csrf_token": api.cookies["mantle_csrf"]},
    )
    assert response.status_code == 422 and "mtk_" not in response.text
