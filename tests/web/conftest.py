"""Browser tests: Debian's chromium driven by Playwright against a live `mantle server`.

Every page fails its test on a console error or an uncaught exception in the page (the issue's
bar: no console errors). `shot(page, name)` saves a full-page screenshot under
build/screenshots/ (the suite prints the folder at the end): look at them."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

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
