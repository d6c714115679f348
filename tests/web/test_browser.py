"""Signing in and out of the web app, and its pages under the server's CSP, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import new_tenant, shot, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_open_the_app_and_sign_out(page, live_server, page_problems):
    page_problems.allow(r"401")  # the wrong password below
    page.goto(f"{live_server.url}/t/default/runs")
    assert page.url.startswith(f"{live_server.url}/login")
    shot(page, "sign-in")

    page.fill("input[name=email]", live_server.admin_email)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "wrong email or password" in page.locator("[role=alert]").inner_text()

    page.fill("input[name=password]", live_server.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/t/default/runs")  # back where the visitor wanted
    assert page.get_by_test_id("who").inner_text() == live_server.admin_email
    assert (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").is_visible()
    )

    session_cookie = next(c for c in page.context.cookies() if c["name"] == "mantle_session")
    assert session_cookie["httpOnly"] is True
    assert page.evaluate("document.cookie").find("mantle_session") == -1

    page.get_by_test_id("who").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/t/default")
    assert page.url.startswith(f"{live_server.url}/login")


def test_pages_and_docs_work_under_the_content_security_policy(page, live_server):
    """Everything the app, the sign-in page and /docs load is allowed by their CSP (a violation
    is a console error, which fails the test), and nothing is fetched from another origin."""
    foreign = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else foreign.append(request.url)
        ),
    )
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Mantle" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary", has_text="/api/v1/me").first.click()  # an operation opens
    page.wait_for_selector(".opblock-body")
    assert foreign == []


def test_the_first_load_after_sign_in_is_quick_and_split_per_page(page, live_server):
    """The frame and the home page load in under a second on loopback, and only the chunks of
    the page asked for are fetched (each page is its own chunk)."""
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/default/runs")
    page.get_by_test_id("who").wait_for()
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {load: n.loadEventEnd, dom: n.domContentLoadedEventEnd}; }"
    )
    assert 0 < timing["load"] < 1000, timing
    names = [s.rsplit("/", 1)[-1] for s in scripts]
    assert any(n.startswith("RunsPage-") for n in names), names
    assert not any(n.startswith(("UploadPage-", "LaunchPage-", "DatasetPage-")) for n in names)


def test_a_page_whose_code_cannot_load_says_so_inside_the_frame(page, live_server, page_problems):
    """After a deploy an open tab may ask for a page chunk that is gone: the page says what
    happened and offers a reload, the frame (navigation) stays."""
    page_problems.allow(r"Failed to load resource|RunsPage|dynamically imported module")
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.route("**/assets/RunsPage-*.js", lambda route: route.abort())
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Reload the page to get the current version")
    expect(page.get_by_role("heading", name="This page could not be loaded")).to_be_visible()
    expect(page.get_by_test_id("who")).to_be_visible()
    page.unroute("**/assets/RunsPage-*.js")
    page.get_by_role("button", name="Reload the page").click()
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()


def test_the_tenant_switcher_keeps_the_section_and_is_remembered(page, live_server, page_problems):
    page_problems.allow(r"status of 404")  # run-999 below does not exist, on purpose
    slug = new_tenant(live_server, "Proteomics core", "switch")
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/default/runs/run-999")  # a page of one run: not carried over
    page.get_by_role("combobox", name="Tenant").select_option(slug)
    page.wait_for_url(f"{live_server.url}/t/{slug}/runs")
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/t/{slug}")  # the tenant used last
