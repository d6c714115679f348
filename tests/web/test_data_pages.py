"""The Data page (a per-type table: filter, sort, pages, selection -> launch / export) and the
Dataset page (edit with the version check, a stale edit, history diffs, lineage graph, files,
archive/restore, what a viewer sees), in a real browser against the shared live server.

The module makes its own tenant (through the admin's token), a data type with properties,
60 datasets, a viewer, and lineage activities, all through the public API."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import add_member, admin_headers, new_tenant, shot, sign_in

pytestmark = pytest.mark.browser

TYPE = "rnaseq_sample"
TISSUES = ["liver", "brain", "kidney"]
COUNT = 60
VIEWER_PASSWORD = "viewer password 123"


@dataclass
class Lab:
    slug: str
    api: httpx.Client
    datasets: dict[str, dict]  # name -> dataset
    viewer_email: str

    def path(self, rest: str) -> str:
        return f"/api/v1/tenants/{self.slug}{rest}"

    def dataset(self, name: str) -> dict:
        return self.datasets[name]

    def get(self, ref: str) -> dict:
        return _ok(self.api.get(self.path(f"/datasets/{ref}")))


def _ok(response: httpx.Response, status: int | None = None) -> dict:
    assert response.status_code == (status or response.status_code) and response.is_success, (
        response.status_code,
        response.text,
    )
    return response.json() if response.content else {}


def _upload(lab: Lab, name: str, properties: dict, files: dict[str, bytes]) -> dict:
    """A dataset with real stored files, through the upload API (single PUT per file)."""
    specs = [{"name": n, "size": len(b)} for n, b in files.items()]
    upload = _ok(
        lab.api.post(
            lab.path("/uploads"),
            json={"name": name, "data_type": TYPE, "properties": properties, "files": specs},
        ),
        201,
    )
    for spec in upload["files"]:
        urls = _ok(
            lab.api.post(
                lab.path(f"/uploads/{upload['id']}/urls"),
                json={"file_id": spec["id"], "part_numbers": [1]},
            )
        )
        url = urls["urls"]["1"]
        headers = urls.get("headers", {}).get("1", {})
        put = httpx.put(
            str(lab.api.base_url.join(url)), content=files[spec["name"]], headers=headers
        )
        assert put.is_success, put.text
    return _ok(lab.api.post(lab.path(f"/uploads/{upload['id']}/complete"), json={}), 201)


@pytest.fixture(scope="module")
def lab(live_server):
    slug = new_tenant(live_server, "Data pages lab", "data")
    api = httpx.Client(base_url=live_server.url, headers=admin_headers(live_server, slug))
    lab = Lab(slug, api, {}, f"viewer-{slug}@example.com")
    _ok(
        api.post(
            lab.path("/data-types"),
            json={
                "name": TYPE,
                "description": "RNA-seq samples: one per library.",
                "properties": [
                    {"name": "sample", "type": "string", "required": True},
                    {"name": "depth", "type": "integer", "description": "Millions of reads"},
                    {"name": "tissue", "type": "string", "enum": TISSUES},
                    {"name": "paired", "type": "boolean"},
                ],
            },
        ),
        201,
    )
    for i in range(1, COUNT + 1):
        body = {
            "name": f"sample-{i:02d}",
            "data_type": TYPE,
            "properties": {
                "sample": f"S{i:02d}",
                "depth": (i * 37) % 100 + 1,  # not in creation order, so sorting shows
                "tissue": TISSUES[i % 3],
                "paired": i % 2 == 0,
            },
            "tags": ["qc-passed"] if i % 4 == 0 else [],
        }
        made = _ok(api.post(lab.path("/datasets"), json=body), 201)
        lab.datasets[made["name"]] = made
    made = _upload(
        lab,
        "liver-reads",
        {"sample": "L1", "depth": 42, "tissue": "liver", "paired": True},
        {"L1_R1.fastq": b"@r1\nACGT\n+\nIIII\n" * 40, "L1_R2.fastq": b"@r2\nTTGA\n+\nIIII\n" * 20},
    )
    lab.datasets[made["name"]] = made
    add_member(live_server, slug, lab.viewer_email, VIEWER_PASSWORD, "viewer")
    yield lab
    api.close()


def _rows(page) -> list[str]:
    """The dataset names of the table's rows, in order."""
    return page.get_by_test_id("datasets-table").locator("tbody tr .dataset-link").all_inner_texts()


def _column(page, header: str) -> list[str]:
    table = page.get_by_test_id("datasets-table")
    headers = table.locator("thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().startswith(header))
    return table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()


def _wait_settled(page) -> None:
    expect(page.locator(".table-wrap[aria-busy=true]")).to_have_count(0)


def _expect_column(page, header: str, values: list[str]) -> None:
    """Waits (retrying) until the column shows exactly these values, in this order."""
    table = page.get_by_test_id("datasets-table")
    headers = table.locator("thead th").all_inner_texts()
    index = next(i for i, h in enumerate(headers) if h.strip().startswith(header))
    expect(table.locator(f"tbody tr td:nth-child({index + 1})")).to_have_text(values)


def test_filter_sort_and_page_a_data_table(page, live_server, lab):
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/{lab.slug}/data/{TYPE}")
    table = page.get_by_test_id("datasets-table")
    expect(table.locator("tbody tr")).to_have_count(50)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    for column in ("Name", "ID", "sample", "depth", "tissue", "paired", "Tags", "Files", "Created"):
        assert any(h.startswith(column) for h in headers), headers
    expect(page.get_by_text("Rows 1–50 of 61")).to_be_visible()
    assert _rows(page)[0] == "liver-reads"  # newest first
    shot(page, "data-table")

    # pages: forward, back with the button, and with the browser's back button
    page.get_by_role("button", name="Next →").click()
    expect(table.locator("tbody tr")).to_have_count(11)
    expect(page.get_by_text("Rows 51–61 of 61")).to_be_visible()
    assert _rows(page)[-1] == "sample-01"
    assert page.get_by_role("button", name="Next →").is_disabled()
    page.get_by_role("button", name="← Previous").click()
    expect(table.locator("tbody tr")).to_have_count(50)
    assert page.get_by_role("button", name="← Previous").is_disabled()
    page.get_by_role("button", name="Next →").click()
    expect(table.locator("tbody tr")).to_have_count(11)
    page.go_back()
    expect(table.locator("tbody tr")).to_have_count(50)

    # sort on a property, ascending then descending (server-side: across all pages)
    all_depths = sorted(d["properties"]["depth"] for d in lab.datasets.values())
    page.get_by_role("button", name=re.compile("^depth")).click()
    page.wait_for_url(re.compile(r"sort=properties\.depth"))
    _expect_column(page, "depth", [str(d) for d in all_depths[:50]])
    page.get_by_role("button", name=re.compile("^depth")).click()
    page.wait_for_url(re.compile(r"sort=-properties\.depth"))
    _expect_column(page, "depth", [str(d) for d in all_depths[::-1][:50]])

    # filter: (depth >= 50 AND tissue = liver) OR name contains "sample-0"
    builder = page.get_by_test_id("filter-builder")
    builder.get_by_role("button", name="+ Condition").click()
    first = builder.get_by_role("group", name="Group 1 condition 1")
    first.get_by_label("Group 1 condition 1: column").select_option("p:depth")
    first.get_by_label("Group 1 condition 1: comparison").select_option("gte")
    first.get_by_label("Group 1 condition 1: value").fill("50")
    builder.get_by_test_id("filter-group").get_by_role("button", name="+ Condition").click()
    second = builder.get_by_role("group", name="Group 1 condition 2")
    second.get_by_label("Group 1 condition 2: column").select_option("p:tissue")
    second.get_by_label("Group 1 condition 2: value").select_option("liver")
    builder.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"filter="))
    _wait_settled(page)
    expected = sorted(
        (d for d in lab.datasets.values() if d["properties"]["depth"] >= 50),
        key=lambda d: -d["properties"]["depth"],
    )
    expected = [d for d in expected if d["properties"]["tissue"] == "liver"]
    _expect_column(page, "depth", [str(d["properties"]["depth"]) for d in expected])
    assert set(_column(page, "tissue")) == {"liver"}
    shot(page, "data-filter")

    builder.get_by_role("button", name="+ Group").click()
    third = builder.get_by_role("group", name="Group 2 condition 1")
    third.get_by_label("Group 2 condition 1: column").select_option("name")
    third.get_by_label("Group 2 condition 1: comparison").select_option("contains")
    third.get_by_label("Group 2 condition 1: value").fill("sample-0")
    builder.get_by_label("Groups joined by").select_option("or")
    builder.get_by_role("button", name="Apply filters").click()
    names = {d["name"] for d in expected} | {f"sample-0{i}" for i in range(1, 10)}
    expect(table.locator("tbody tr")).to_have_count(len(names))
    _wait_settled(page)
    assert set(_rows(page)) == names

    # the URL holds it all: a reload shows the same rows in the same order
    shown = _rows(page)
    page.reload()
    expect(table.locator("tbody tr")).to_have_count(len(names))
    assert _rows(page) == shown
    expect(builder.get_by_label("Group 2 condition 1: value")).to_have_value("sample-0")

    # tags and the name search
    builder.get_by_role("button", name="Clear").click()
    # Clear navigates (a React transition); the builder takes the URL's state when it lands,
    # so typing before that would be wiped.
    page.wait_for_url(lambda url: "filter=" not in url)
    expect(builder.get_by_label("Group 1 condition 1: value")).to_have_count(0)
    _wait_settled(page)
    builder.get_by_label("Tags (all of)").fill("qc-passed")
    builder.get_by_label("Name contains").fill("sample-1")
    builder.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"tags=qc-passed"))
    # sample-1x with the tag (every 4th one), by depth descending
    expect(table.locator("tbody tr .dataset-link")).to_have_text(["sample-16", "sample-12"])


def test_select_rows_to_launch_and_export_a_samplesheet(page, live_server, lab):
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    # every type together: the type column and a summary of the properties
    page.goto(f"{live_server.url}/t/{lab.slug}/data?q=sample-0&sort=name")
    table = page.get_by_test_id("datasets-table")
    expect(table.locator("tbody tr")).to_have_count(9)
    _expect_column(page, "Type", [TYPE] * 9)
    expect(table.locator("tbody tr").first).to_contain_text("sample S01")
    shot(page, "data-all")
    page.get_by_role("navigation", name="Data types").get_by_role("link", name=TYPE).click()
    page.wait_for_url(re.compile(f"/data/{TYPE}$"))
    page.goto(f"{live_server.url}/t/{lab.slug}/data/{TYPE}?sort=name&q=sample-0")
    table = page.get_by_test_id("datasets-table")
    expect(table.locator("tbody tr")).to_have_count(9)
    assert _rows(page)[:2] == ["sample-01", "sample-02"]
    ids = [lab.dataset(n)["short_id"] for n in ("sample-01", "sample-03")]
    for short_id in ids:
        table.get_by_label(f"Select row {short_id}").check()
    expect(page.get_by_test_id("selection-count")).to_have_text("2 datasets selected")

    with page.expect_download() as download:
        page.get_by_test_id("export-samplesheet").click()
    text = download.value.path().read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r.get("name") or r.get("dataset_name") or "" for r in rows) == [
        "sample-01",
        "sample-03",
    ], text
    assert {"sample", "depth", "tissue"} <= set(rows[0].keys()), rows[0].keys()

    # nothing selected: the whole query
    page.get_by_role("button", name="Clear selection").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-samplesheet").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert len(rows) == 9

    for short_id in ids:
        table.get_by_label(f"Select row {short_id}").check()
    page.get_by_role("button", name="Launch pipeline with these").click()
    page.wait_for_url(re.compile(r"/launch\?"))
    assert parse_qs(urlparse(page.url).query)["datasets"] == [",".join(ids)]


def test_edit_a_property_through_a_stale_version(page, live_server, lab, page_problems):
    page_problems.allow(r"409")  # the stale save the test provokes: the browser logs its status
    target = lab.dataset("sample-05")
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/{lab.slug}/datasets/{target['short_id']}")
    expect(page.get_by_role("heading", name="sample-05")).to_be_visible()
    properties = page.get_by_test_id("properties")
    properties.get_by_role("button", name="Edit properties").click()
    properties.get_by_label("depth").fill("77")
    properties.get_by_label("Tags").fill("reviewed")

    # meanwhile someone else changes the dataset through the API
    before = lab.get(target["short_id"])
    _ok(
        lab.api.patch(
            lab.path(f"/datasets/{target['short_id']}"),
            json={"properties": {"depth": 12, "tissue": "brain"}},
            headers={"If-Match": f'"{before["version"]}"'},
        )
    )
    properties.get_by_role("button", name="Save").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_contain_text("this dataset changed while you were editing")
    expect(conflict.get_by_test_id("theirs-depth")).to_contain_text("12")
    expect(conflict.get_by_test_id("yours-depth")).to_have_text("77")
    expect(conflict.get_by_test_id("yours-tags")).to_have_text("reviewed")
    shot(page, "dataset-conflict")

    conflict.get_by_role("button", name=re.compile("Apply my values")).click()
    expect(properties.get_by_text("Saved as version")).to_be_visible()
    after = lab.get(target["short_id"])
    assert after["properties"]["depth"] == 77
    assert after["properties"]["tissue"] == "brain"  # the other change survives
    assert after["tags"] == ["reviewed"]
    expect(properties.locator("dd").filter(has_text="77")).to_have_count(1)

    history = page.get_by_test_id("history")
    latest = history.get_by_test_id(f"version-{after['version']}")
    expect(latest).to_contain_text("depth:")
    expect(latest.locator("del").first).to_have_text("12")
    expect(latest.locator("ins").first).to_have_text("77")
    expect(latest).to_contain_text("tag reviewed")
    middle = history.get_by_test_id(f"version-{after['version'] - 1}")
    expect(middle).to_contain_text("tissue:")
    history.scroll_into_view_if_needed()
    shot(page, "dataset-history")


def test_lineage_graph_upstream_and_downstream(page, live_server, lab):
    reads, root, counts = (lab.dataset(n) for n in ("sample-10", "sample-11", "sample-12"))
    run_id = str(uuid.uuid4())
    _ok(
        lab.api.post(
            lab.path("/activities"),
            json={
                "kind": "pipeline_run",
                "inputs": [reads["short_id"]],
                "outputs": [root["short_id"]],
                "details": {"run_id": run_id, "run_name": "align-run"},
            },
        ),
        201,
    )
    _ok(
        lab.api.post(
            lab.path("/activities"),
            json={"kind": "manual", "inputs": [root["short_id"]], "outputs": [counts["short_id"]]},
        ),
        201,
    )
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/{lab.slug}/datasets/{root['short_id']}")
    graph = page.get_by_test_id("lineage-graph")
    expect(graph.locator("[data-testid=lineage-node][data-kind=dataset]")).to_have_count(3)
    expect(graph.locator("[data-testid=lineage-node][data-kind=activity]")).to_have_count(2)
    expect(page.get_by_test_id("lineage-summary")).to_contain_text(
        "1 upstream and 1 downstream datasets"
    )
    run = graph.get_by_role("link", name=re.compile("Pipeline run: align-run"))
    assert run.get_attribute("href") == f"/t/{lab.slug}/runs/{run_id}"
    upstream = graph.get_by_role("link", name=re.compile("sample-10"))
    downstream = graph.get_by_role("link", name=re.compile("sample-12"))
    assert upstream.bounding_box()["x"] < downstream.bounding_box()["x"]
    page.get_by_test_id("lineage").scroll_into_view_if_needed()
    shot(page, "dataset-lineage")

    downstream.click()
    page.wait_for_url(re.compile(f"/datasets/{counts['short_id']}$"))
    expect(page.get_by_role("heading", name="sample-12")).to_be_visible()
    expect(page.get_by_test_id("lineage-summary")).to_contain_text("2 upstream and 0 downstream")


def test_dataset_page_files_download_archive_and_restore(page, live_server, lab):
    reads = lab.dataset("liver-reads")
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password)
    page.goto(f"{live_server.url}/t/{lab.slug}/datasets/{reads['short_id']}")
    expect(page.get_by_role("heading", name="liver-reads")).to_be_visible()
    expect(page.get_by_test_id("dataset-id")).to_have_text(reads["short_id"])
    files = page.get_by_test_id("files")
    expect(files.get_by_role("row")).to_have_count(3)
    expect(files.get_by_role("row", name=re.compile("L1_R1.fastq"))).to_contain_text("640 B")
    with page.expect_download() as download:
        files.get_by_role("link", name="Download L1_R1.fastq").click()
    assert download.value.path().read_bytes() == b"@r1\nACGT\n+\nIIII\n" * 40
    shot(page, "dataset-page")

    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("dataset-status")).to_have_text("archived")
    expect(page.get_by_text("This dataset is archived")).to_be_visible()
    assert lab.get(reads["short_id"])["archived"] is True
    shot(page, "dataset-archived")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("dataset-status")).to_have_text("active")
    assert lab.get(reads["short_id"])["archived"] is False
    history = page.get_by_test_id("history")
    expect(history.get_by_text("Archived", exact=True)).to_be_visible()
    expect(history.get_by_text("Restored", exact=True)).to_be_visible()


def test_a_viewer_sees_no_edit_archive_or_launch_buttons(page, live_server, lab):
    sign_in(page, live_server.url, lab.viewer_email, VIEWER_PASSWORD, f"/t/{lab.slug}/data/{TYPE}")
    table = page.get_by_test_id("datasets-table")
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_test_id("export-samplesheet")).to_be_visible()
    expect(page.get_by_role("button", name="Launch pipeline with these")).to_have_count(0)
    expect(page.locator(".page-actions")).to_have_count(0)  # no Upload / Import
    table.get_by_role("link", name="sample-20").click()
    expect(page.get_by_role("heading", name="sample-20")).to_be_visible()
    expect(page.get_by_test_id("properties")).to_contain_text("tissue")
    for name in ("Edit properties", "Archive", "Restore"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("link", name="Launch pipeline with this")).to_have_count(0)
    shot(page, "dataset-viewer")
