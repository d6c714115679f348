"""The web UI in a real browser: Debian's chromium driven by Playwright, against a live server."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

CHROMIUM = os.environ.get("MANTLE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("MANTLE_SKIP_BROWSER") == "1":
        pytest.skip("MANTLE_SKIP_BROWSER=1")
    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: run `make test` (it installs chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_log_in_create_use_and_revoke_a_token(page, live_server):
    page.goto(f"{live_server.url}/t/default")
    assert page.url.startswith(f"{live_server.url}/login")

    page.fill("input[name=email]", live_server.admin_email)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "wrong email or password" in page.locator("[role=alert]").inner_text()

    page.fill("input[name=password]", live_server.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/t/default")
    assert page.get_by_test_id("who").inner_text() == live_server.admin_email

    page.fill("input[name=name]", "from the browser")
    page.select_option("select[name=scope]", "read")
    page.click("text=Create token")
    token = page.get_by_test_id("token-value").inner_text().strip()
    assert token.startswith("mtk_")
    assert page.url == f"{live_server.url}/t/default"  # redirected after the POST
    page.reload()  # a refresh shows the page again, without the token or a second one
    assert page.get_by_test_id("token-value").count() == 0
    assert page.get_by_test_id("tokens").locator("tr", has_text="from the browser").count() == 1
    me = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["token_scope"] == "read"

    row = page.get_by_test_id("tokens").locator("tr", has_text="from the browser")
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{live_server.url}/t/default")
    assert (
        "revoked"
        in page.get_by_test_id("tokens").locator("tr", has_text="from the browser").inner_text()
    )
    again = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401

    session_cookie = next(c for c in page.context.cookies() if c["name"] == "mantle_session")
    assert session_cookie["httpOnly"] is True
    assert page.evaluate("document.cookie").find("mantle_session") == -1

    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/t/default")
    assert page.url.startswith(f"{live_server.url}/login")


def test_pages_and_docs_work_under_the_content_security_policy(page, live_server):
    """Everything the pages and /docs load is allowed by their CSP, and nothing is fetched
    from another origin (the docs work offline)."""
    violations, foreign = [], []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    def on_request(request):
        if not request.url.startswith(live_server.url):
            foreign.append(request.url)

    page.on("console", on_console)
    page.on("request", on_request)
    page.goto(f"{live_server.url}/login")
    assert page.locator("button[type=submit]").is_visible()
    page.goto(f"{live_server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Mantle" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary", has_text="/api/v1/me").first.click()  # an operation opens
    page.wait_for_selector(".opblock-body")
    assert violations == [] and foreign == []
