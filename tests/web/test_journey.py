"""A scientist's day in one browser session, across the pages other tests check one by one:
upload a FASTQ pair from the Upload page, find it in the Data table, select it and launch
fastq-stats from the generated form, watch the run finish, open an output dataset and follow
its lineage back to the reads and to the run."""

from __future__ import annotations

import gzip
import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import new_tenant, shot, sign_in

pytestmark = pytest.mark.browser

READS = b"@r1\nACGTGCAT\n+\nIIIIIIII\n@r2\nGGCCAATT\n+\nIIII!!!!\n"


@pytest.fixture
def tenant(live_server) -> str:
    return new_tenant(live_server, "Sequencing core", "day")


def test_upload_find_launch_watch_and_follow_the_lineage(page, live_server, tenant, tmp_path):
    reads = []
    for mate in ("R1", "R2"):
        path = tmp_path / f"LIVER7_S1_{mate}_001.fastq.gz"
        path.write_bytes(gzip.compress(READS))
        reads.append(path)
    sign_in(
        page, live_server.url, live_server.admin_email, live_server.admin_password, f"/t/{tenant}"
    )
    expect(page.get_by_test_id("empty-state").first).to_be_visible()  # a new tenant says what to do
    shot(page, "journey-home-empty")

    # Upload: the pair becomes one fastq_pair dataset.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    page.get_by_test_id("files-input").set_input_files(reads)
    expect(page.get_by_test_id("upload-summary")).to_contain_text("with 2 files")
    page.get_by_role("button", name="Upload", exact=True).click()
    run = page.get_by_test_id("upload-run")
    expect(run.get_by_role("heading", name="Upload complete")).to_be_visible(timeout=30_000)

    # Data: the table of fastq_pair lists it; select it and launch.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.get_by_role("tab", name="fastq_pair").or_(
        page.get_by_role("link", name="fastq_pair")
    ).first.click()
    table = page.get_by_test_id("datasets-table")
    row = table.locator("tbody tr", has_text="LIVER7")
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Launch pipeline with these").click()

    # Launch: pick fastq-stats; the form comes from its schema; one dataset is the input.
    page.wait_for_url(re.compile(r"/launch\?datasets="))
    page.get_by_role("combobox", name="Pipeline").select_option("fastq-stats")
    expect(page.get_by_test_id("input-count")).to_have_text("1 dataset selected")
    page.get_by_label("Run name").fill("liver QC")
    shot(page, "journey-launch")
    page.get_by_role("button", name="Launch fastq-stats").click()
    page.wait_for_url(re.compile(r"/runs/run-\d+$"))
    badge = page.locator(".page-header .badge").first
    expect(badge).to_have_text("succeeded", timeout=90_000)
    shot(page, "journey-run")

    # An output dataset, and its lineage back to the reads and the run.
    outputs = page.get_by_test_id("run-outputs")
    outputs.get_by_role("link", name=re.compile(r"fastq stats$")).first.click()
    page.wait_for_url(re.compile(r"/datasets/DS-\d+$"))
    graph = page.get_by_test_id("lineage-graph")
    # upload -> reads -> run -> this output
    nodes = graph.get_by_test_id("lineage-node")
    expect(nodes).to_have_count(4)
    expect(graph.locator("[data-kind=activity]")).to_have_text(
        [re.compile("^Upload"), re.compile("^Pipeline run: liver QC")]
    )
    shot(page, "journey-output-lineage")
    nodes.filter(has_text="LIVER7").click()
    page.wait_for_url(re.compile(r"/datasets/DS-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("LIVER7")
    # Downstream of the reads: the run and its outputs (the table and the report).
    downstream = page.get_by_test_id("lineage-graph").get_by_test_id("lineage-node")
    expect(downstream.filter(has_text="report")).to_have_count(1)
    expect(downstream.filter(has_text="table")).to_have_count(1)
    # The run node leads back to the run.
    downstream.filter(has_text="Pipeline run: liver QC").click()
    page.wait_for_url(re.compile(r"/runs/run-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("liver QC")
    shot(page, "journey-reads-lineage")
