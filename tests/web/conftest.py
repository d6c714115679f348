"""Browser tests: Debian's chromium driven by Playwright against a live `mantle server`.

Every page fails its test on a console error or an uncaught exception in the page (the issue's
bar: no console errors). `shot(page, name)` saves a full-page screenshot under
build/screenshots/ (the suite prints the folder at the end): look at them.

Setting up through the API: `new_tenant(server, name)` gives a test a tenant of its own on the
shared server, `admin_headers(server, tenant)` the first admin's bearer header, `add_member`
a user who joined by invitation. `cors_moto` is a moto server of the test module's own with
moto's allow-everything CORS off, so the browser's CORS checks against S3 are real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.aws import FAKE_AWS_ENV, MotoServer
from tests.live import free_port

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if os.environ.get("MANTLE_SKIP_BROWSER") == "1":
        pytest.skip("MANTLE_SKIP_BROWSER=1")
    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: run `make test` (it installs chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class PageProblems:
    """Console errors and page exceptions seen while a test ran."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """A console error the test provokes on purpose (e.g. the browser logging a 409)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser, page_problems):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)

    def on_console(message):
        if message.type == "error":
            page_problems.errors.append(f"console: {message.text} ({message.location})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_problems.errors.append(f"page error: {error}"))
    yield page
    context.close()
    assert page_problems.unexpected() == [], "the page logged errors"


def shot(page, name: str) -> Path:
    """A full-page screenshot, build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, email: str, password: str, next_path: str = "/") -> None:
    """Signs in through the sign-in form and waits for the web app's frame."""
    page.goto(f"{url}/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.get_by_test_id("who").wait_for()


# --- setting up through the API -------------------------------------------------------------


def unique(prefix: str) -> str:
    """A name no other test on the shared server uses: `prefix-1a2b3c4d`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_token(url: str, email: str, password: str, tenant: str | None = None) -> str:
    """A bearer token of a user (POST /api/v1/auth/token), for `tenant` when given."""
    body = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    response = httpx.post(f"{url}/api/v1/auth/token", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def admin_token(server, tenant: str | None = None) -> str:
    """A bearer token of the server's first admin."""
    return api_token(server.url, server.admin_email, server.admin_password, tenant)


def admin_headers(server, tenant: str | None = None) -> dict[str, str]:
    """The first admin's Authorization header, for `tenant` when given."""
    return {"Authorization": f"Bearer {admin_token(server, tenant)}"}


def new_tenant(server, name: str, prefix: str = "lab") -> str:
    """A tenant of the test's own on the shared server (slug `prefix-…`); the admin owns it."""
    slug = unique(prefix)
    response = httpx.post(
        f"{server.url}/api/v1/tenants",
        json={"slug": slug, "name": name},
        headers=admin_headers(server, server.tenant),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return slug


def add_member(server, tenant: str, email: str, password: str, role: str) -> None:
    """A new user who joined `tenant` as `role` by signing up with the admin's invitation."""
    invited = httpx.post(
        f"{server.url}/api/v1/tenants/{tenant}/invitations",
        json={"email": email, "role": role},
        headers=admin_headers(server, tenant),
        timeout=30,
    )
    assert invited.status_code == 201, invited.text
    joined = httpx.post(
        f"{server.url}/api/v1/invitations/signup",
        json={"token": invited.json()["token"], "password": password},
        timeout=30,
    )
    assert joined.status_code == 200, joined.text


# --- S3 with CORS as on AWS -------------------------------------------------------------------


@pytest.fixture(scope="module")
def cors_moto(tmp_path_factory) -> Iterator[MotoServer]:
    """A moto server process of the module's own, started with MOTO_DISABLE_GLOBAL_CORS=true
    (moto reads it at import, so not in this process): only the buckets' own CORS rules let
    the browser in."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    env = {**os.environ, **FAKE_AWS_ENV, "MOTO_DISABLE_GLOBAL_CORS": "true"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto did not start; see {log.name}") from None
                time.sleep(0.1)
        yield MotoServer(None, url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
