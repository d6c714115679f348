"""What the server does for pages: the sign-in form, sign-out, and the web app's index.html for
every page path (after a session check), through the test client on both databases."""

from __future__ import annotations

import re

import pytest

from mantle.web import routes as web_routes
from tests.factories import PASSWORD


@pytest.fixture
def built_app(tmp_path, monkeypatch):
    """A stand-in build of the web app (the real one comes from scripts/build-ui)."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(web_routes, "APP_DIR", tmp_path)
    return tmp_path


def form_token(client) -> str:
    """Opens the sign-in form the way a browser does: its token (the cookie lands in the jar)."""
    page = client.get("/login")
    return re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)


def test_pages_need_a_login_and_come_back_with_their_query(api):
    response = api.get("/t/acme/runs?status=FAILED", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/t/acme/runs%3Fstatus%3DFAILED"


def test_login_form_logs_in_and_redirects_to_the_app(api, factory, built_app):
    factory.tenant("acme", "ann@example.com")
    token = form_token(api)
    bad = api.post(
        "/login", data={"email": "ann@example.com", "password": "x", "login_token": token}
    )
    assert bad.status_code == 401 and "wrong email or password" in bad.text
    ok = api.post(
        "/login",
        data={
            "email": "ann@example.com",
            "password": PASSWORD,
            "next": "/t/acme",
            "login_token": form_token(api),
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/t/acme"
    page = api.get("/t/acme/datasets/DS-000001")
    assert page.status_code == 200 and "<div id=root>" in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in page.headers["content-security-policy"]


def test_login_next_cannot_redirect_off_site(api, factory):
    factory.user("ann@example.com")
    for target in ["https://evil.example.com", "//evil.example.com", "/\\evil.example.com"]:
        response = api.post(
            "/login",
            data={
                "email": "ann@example.com",
                "password": PASSWORD,
                "next": target,
                "login_token": form_token(api),
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_login_form_posted_by_another_site_signs_nobody_in(api, factory):
    factory.user("ann@example.com")
    form = {"email": "ann@example.com", "password": PASSWORD, "next": "/"}
    form["login_token"] = form_token(api)
    forged = api.post(
        "/login", data=form, headers={"Origin": "https://evil.example.com"}, follow_redirects=False
    )
    assert forged.status_code == 403 and "another site" in forged.text
    assert "mantle_session" not in forged.headers.get("set-cookie", "")
    form["login_token"] = form_token(api)  # the refusal handed out a new form
    ok = api.post(
        "/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_the_sign_in_form_needs_its_own_token_whatever_the_browser_says(api, factory, app):
    """A browser that sends neither Sec-Fetch-Site nor an Origin (older ones) is still covered:
    another site's page cannot know the form's token nor set its cookie."""
    from fastapi.testclient import TestClient

    factory.user("ann@example.com")
    form = {"email": "ann@example.com", "password": PASSWORD, "next": "/"}
    missing = api.post("/login", data=form, follow_redirects=False)
    assert missing.status_code == 403 and "sign in again" in missing.text
    assert "mantle_session" not in missing.headers.get("set-cookie", "")
    with TestClient(app) as attacker:  # a token of another browser: its cookie is not ours
        stolen = form_token(attacker)
    form_token(api)
    wrong = api.post("/login", data={**form, "login_token": stolen}, follow_redirects=False)
    assert wrong.status_code == 403
    retry = form_token(api)  # the refused page carries a fresh token: the user just retries
    ok = api.post("/login", data={**form, "login_token": retry}, follow_redirects=False)
    assert ok.status_code == 303 and "mantle_session" in ok.headers["set-cookie"]


def test_sign_out_needs_the_csrf_token_and_ends_the_session(api, factory, built_app):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    forged = api.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert api.get("/api/v1/me").status_code == 200
    out = api.post(
        "/logout", data={"csrf_token": api.cookies["mantle_csrf"]}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert api.get("/t/acme", follow_redirects=False).status_code == 303


def test_assets_are_cached_for_good_and_missing_ones_are_404(built_app, api):  # app after build
    asset = api.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert api.get("/assets/nope.js").status_code == 404


def test_api_paths_never_get_the_app(api, factory, built_app):
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    missing = api.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    other = api.get("/nope")
    assert other.status_code == 404 and "root" not in other.text


def test_invitation_page_opens_without_a_session(api, built_app):
    page = api.get("/invite?token=mti_x", follow_redirects=False)
    assert page.status_code == 200 and "<div id=root>" in page.text


def test_a_server_without_the_built_app_says_how_to_build_it(api, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(web_routes, "APP_DIR", tmp_path / "missing")
    factory.tenant("acme", "ann@example.com")
    factory.browser_login("ann@example.com")
    page = api.get("/t/acme")
    assert page.status_code == 503 and "make run" in page.text


def test_the_app_may_reach_s3_and_the_configured_endpoints_only(settings):
    from mantle.api.security_headers import page_csp

    plain = page_csp(settings)
    assert "connect-src 'self' https://*.amazonaws.com" in plain
    assert "unsafe" not in plain and "script-src" not in plain  # scripts: 'self' only
    custom = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(
                update={"s3_endpoint_url": "https://minio.lab.example:9000/ignored/path"}
            ),
            "aws": settings.aws.model_copy(update={"endpoint_url": "http://127.0.0.1:5000"}),
        }
    )
    connect = page_csp(custom).split("connect-src ")[1]
    assert connect == (
        "'self' https://*.amazonaws.com https://minio.lab.example:9000 http://127.0.0.1:5000"
    )
