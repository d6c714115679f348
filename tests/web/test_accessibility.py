"""Accessibility of every main page, checked by a real tool (axe-core, injected into the page)
with data in the pages: no violation of impact "serious" or "critical" (contrast, labels,
names, landmarks, ARIA). Also the keyboard (skip link, main actions reachable, focus visible,
dialogs keep focus and close on Escape) and a 1024 px wide window (no page wider than the
window: wide tables scroll inside their box)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from mantle.client import Client
from tests.web.conftest import admin_token, new_tenant, shot, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
READS = b"@r1\nACGTGCAT\n+\nIIIIIIII\n@r2\nGGCCAATT\n+\nIIII!!!!\n"
BLOCKING = {"serious", "critical"}


class Lab:
    def __init__(self, url: str, slug: str, dataset: str, run: str) -> None:
        self.url, self.slug, self.dataset, self.run = url, slug, dataset, run

    def href(self, path: str = "") -> str:
        return f"/t/{self.slug}{path}"


@pytest.fixture(scope="module")
def lab(live_server, tmp_path_factory) -> Lab:
    """A tenant with datasets, a finished run with outputs, a token and an invitation."""
    slug = new_tenant(live_server, "Accessibility lab", "a11y")
    client = Client(live_server.url, admin_token(live_server, slug), tenant=slug)
    folder = tmp_path_factory.mktemp("a11y")
    datasets = []
    for sample in ("LIVER1", "KIDNEY2"):
        path = folder / f"{sample}.fastq.gz"
        path.write_bytes(gzip.compress(READS))
        datasets.append(
            client.datasets.upload(
                [path], data_type="fastq", properties={"sample": sample, "reads": path.name}
            )
        )
    run = client.runs.launch(
        "fastq-stats", inputs=[d.short_id for d in datasets], name="liver and kidney QC"
    )
    assert run.wait(timeout=90, poll=0.5).status == "SUCCEEDED"
    client.tenants.invite("newcomer@example.com", role="member", tenant=slug)
    return Lab(live_server.url, slug, datasets[0].short_id, run.short_id)


@pytest.fixture
def axe_page(page):
    """The test's page with axe-core loaded in every document (an init script: the app's CSP
    allows no inline script, and init scripts are not page content)."""
    assert AXE.exists(), "axe-core missing: run `make ui` (npm ci in ui/)"
    page.add_init_script(path=str(AXE))
    return page


RUN_AXE = """async () => {
    const r = await axe.run(document, {runOnly: {type: "tag", values: TAGS}});
    const where = (n) => n.target.join(" ") + " :: " + n.html.slice(0, 160);
    return {
        violations: r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
            nodes: v.nodes.slice(0, 5).map(n => ({target: where(n), summary: n.failureSummary})),
        })),
        passes: r.passes.length,
        // What axe could not decide (e.g. contrast over a graph): printed for a person to check.
        incomplete: r.incomplete.map(v => v.id + " " + v.nodes.slice(0, 3).map(where).join(" | ")),
    };
}""".replace("TAGS", '["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]')


def axe_violations(page, name: str) -> list[dict]:
    """axe's WCAG 2.1 A/AA and best-practice rules over the whole document."""
    result = page.evaluate(RUN_AXE)
    print(name, "passes:", result["passes"], "undecided:", result["incomplete"])
    return result["violations"]


def settled(page) -> None:
    """No spinner left, so axe sees the page as a user does."""
    expect(page.locator(".loading")).to_have_count(0, timeout=15_000)


PAGES = [
    ("home", "", "recent-runs"),
    ("data", "/data", "datasets-table"),
    ("data-type", "/data/fastq", "datasets-table"),
    ("dataset", "/datasets/{dataset}", "lineage-graph"),
    ("upload", "/upload", None),
    ("import", "/import", None),
    ("pipelines", "/pipelines", None),
    ("pipeline", "/pipelines/fastq-stats", None),
    ("launch", "/launch?pipeline=fastq-stats&datasets={dataset}", "input-count"),
    ("runs", "/runs", None),
    ("run", "/runs/{run}", "run-outputs"),
    ("environments", "/environments", None),
    ("members", "/members", None),
    ("tokens", "/tokens", None),
]


def test_no_serious_or_critical_axe_violations_on_any_main_page(axe_page, lab, live_server):
    page = axe_page
    found: dict[str, list[dict]] = {}
    page.goto(f"{lab.url}/login")
    found["sign-in"] = axe_violations(page, "sign-in")
    sign_in(page, lab.url, live_server.admin_email, live_server.admin_password, lab.href())
    for name, path, ready in PAGES:
        page.goto(lab.url + lab.href(path.format(dataset=lab.dataset, run=lab.run)))
        page.get_by_role("heading", level=1).first.wait_for()
        if ready:
            page.get_by_test_id(ready).first.wait_for()
        settled(page)
        found[name] = axe_violations(page, name)
    # States that are not a page of their own: a form being edited, an open dialog.
    page.goto(lab.url + lab.href(f"/datasets/{lab.dataset}"))
    page.get_by_role("button", name="Edit properties").click()
    page.get_by_role("button", name="Cancel").first.wait_for()
    found["dataset-editing"] = axe_violations(page, "dataset-editing")
    page.goto(lab.url + lab.href("/pipelines"))
    page.get_by_role("button", name="Add pipeline").click()
    page.get_by_role("dialog").wait_for()
    found["pipelines-dialog"] = axe_violations(page, "pipelines-dialog")
    report = {
        name: [f"{v['impact']} {v['id']} x{v['count']}: {v['help']} {v['nodes']}" for v in vs]
        for name, vs in found.items()
        if vs
    }
    print("axe violations (all impacts):", json.dumps(report, indent=1))
    blocking = {name: [v for v in vs if v["impact"] in BLOCKING] for name, vs in found.items()}
    blocking = {name: vs for name, vs in blocking.items() if vs}
    assert blocking == {}, json.dumps(blocking, indent=1)


def test_keyboard_reaches_the_main_actions_with_visible_focus(page, lab, live_server):
    sign_in(page, lab.url, live_server.admin_email, live_server.admin_password, lab.href("/runs"))
    page.get_by_role("heading", name="Runs").wait_for()
    # The first Tab lands on the skip link, which takes focus past the navigation.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    # Tabbing on reaches the page's main action, and every stop shows where focus is.
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
                const el = document.activeElement;
                const s = getComputedStyle(el);
                return {text: (el.innerText || el.getAttribute("aria-label") || "").trim(),
                        outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
                        ring: s.boxShadow !== "none"};
            }"""
        )
        assert info["outline"] or info["ring"], f"no visible focus on {info['text']!r}"
        seen.append(info["text"])
        if info["text"] == "Launch a pipeline":
            break
    assert "Launch a pipeline" in seen, seen
    assert "Runs" in seen  # the navigation comes first

    # Enter follows a focused link: the run's page from the table.
    page.get_by_role("link", name="liver and kidney QC").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/runs/run-\d+$"))
    page.get_by_role("heading", name="liver and kidney QC").wait_for()


def test_a_dialog_keeps_focus_inside_and_escape_closes_it(page, lab, live_server):
    sign_in(
        page, lab.url, live_server.admin_email, live_server.admin_password, lab.href("/pipelines")
    )
    opener = page.get_by_role("button", name="Add pipeline")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # Focus starts inside and stays inside however far one tabs (forwards and back).
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert page.evaluate("() => !!document.activeElement.closest('dialog')"), key
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Focus goes back to the button that opened it.
    expect(opener).to_be_focused()


@pytest.mark.parametrize(
    "name,path,ready",
    [
        ("data", "/data/fastq", "datasets-table"),
        ("run", "/runs/{run}", "run-outputs"),
        ("launch", "/launch?pipeline=fastq-stats&datasets={dataset}", "input-count"),
        ("home", "", "recent-runs"),
        ("runs", "/runs", None),
        ("dataset", "/datasets/{dataset}", "lineage-graph"),
    ],
)
def test_pages_fit_a_1024_px_window_and_wide_tables_scroll_inside(
    page, lab, live_server, name, path, ready
):
    page.set_viewport_size({"width": 1024, "height": 768})
    target = lab.href(path.format(dataset=lab.dataset, run=lab.run))
    sign_in(page, lab.url, live_server.admin_email, live_server.admin_password, quote(target))
    page.get_by_role("heading", level=1).first.wait_for()
    if ready:
        page.get_by_test_id(ready).first.wait_for()
    settled(page)
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    assert widths["page"] <= widths["window"], f"{name} is wider than the window: {widths}"
    # Every entry of the navigation is in view (none hidden past the bar's end).
    nav = page.get_by_role("navigation", name="Main")
    right = nav.evaluate("n => n.getBoundingClientRect().right")
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box and box["x"] + box["width"] <= right + 1, f"{link.inner_text()} is cut off"
    # Every table sits in a box that scrolls sideways rather than pushing the page wider.
    for table in page.locator("table").all():
        overflow = table.evaluate(
            """t => { let p = t.parentElement;
                      while (p && p !== document.body) {
                        const o = getComputedStyle(p).overflowX;
                        if (o === "auto" || o === "scroll") return true;
                        p = p.parentElement; }
                      return false; }"""
        )
        assert overflow, f"a table on {name} has no scrolling box"
    shot(page, f"a11y-1024-{name}")


def test_pages_keep_their_layout_after_other_pages_loaded_their_styles(page, lab, live_server):
    """Each page's CSS stays in the document once loaded: a class of one page must not change
    another (a `.nowrap` of the Data page once pushed the run page 1900 px wide)."""
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, lab.url, live_server.admin_email, live_server.admin_password, lab.href())
    for path in (
        "/data/fastq",
        f"/launch?pipeline=fastq-stats&datasets={lab.dataset}",
        "/members",
        "/tokens",
        "/environments",
        f"/runs/{lab.run}",
        f"/datasets/{lab.dataset}",
        "/data",
    ):
        # In-app navigation (no reload), as a user clicking through: the styles add up.
        page.evaluate(
            "p => { history.pushState({}, '', p); dispatchEvent(new PopStateEvent('popstate')); }",
            lab.href(path),
        )
        page.wait_for_url(re.compile(re.escape(lab.href(path.split("?")[0])) + r"(\?|$)"))
        page.get_by_role("heading", level=1).first.wait_for()
        settled(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1024, f"{path} is {width} px wide after the pages before it"
