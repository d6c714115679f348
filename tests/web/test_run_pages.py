"""Pipelines, launch and runs in a real browser against the shared live server (SQLite, the
local executor, the embedded worker): a tenant of this module's own with a member and a viewer;
two FASTQ pairs uploaded through the API (the SDK's multipart upload); an nf-core-shaped
pipeline added from git in the browser; the built-in fastq-stats launched from the generated
form to SUCCEEDED with its outputs as datasets; a slow script pipeline cancelled; a failing one
showing why; the runs list filtered; and a viewer who sees no Launch or Cancel."""

from __future__ import annotations

import gzip
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from mantle.client import Client
from mantle.client._pairing import plan_samples
from tests.pipelines.conftest import Repo
from tests.web.conftest import add_member, api_token, new_tenant, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
FASTQ = b"@r1\nACGTGCAT\n+\nIIIIIIII\n@r2\nGGCCAATT\n+\nIIII!!!!\n@r3\nTTTTGGCC\n+\nIIIIIIII\n"
RUN_END = 90_000  # ms: a local run of fastq-stats takes seconds; the monitor polls every few

EMAIL_PATTERN = "^([a-zA-Z0-9_\\-\\.]+)@([a-zA-Z0-9_\\-\\.]+)\\.([a-zA-Z]{2,5})$"
NF_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema",
    "title": "lab/rnaseq-lite pipeline parameters",
    "description": "RNA-seq quantification, small edition",
    "type": "object",
    "definitions": {
        "input_output_options": {
            "title": "Input/output options",
            "type": "object",
            "description": "Where the pipeline reads and writes.",
            "required": ["input", "outdir"],
            "properties": {
                "input": {"type": "string", "format": "file-path", "mimetype": "text/csv",
                          "pattern": "^\\S+\\.csv$", "schema": "assets/schema_input.json",
                          "description": "Samplesheet of the samples."},
                "outdir": {"type": "string", "format": "directory-path"},
                "email": {"type": "string", "description": "Mail a summary when it ends.",
                          "pattern": EMAIL_PATTERN},
            },
        },
        "reference_genome_options": {
            "title": "Reference genome",
            "type": "object",
            "description": "Which genome the reads are aligned to.",
            "properties": {
                "genome": {"type": "string", "enum": ["GRCh38", "GRCm39", "R64-1-1"],
                           "default": "GRCh38", "description": "Reference genome build.",
                           "help_text": "Use GRCm39 for mouse and R64-1-1 for yeast samples."},
            },
        },
        "alignment_options": {
            "title": "Alignment",
            "type": "object",
            "properties": {
                "aligner": {"type": "string", "enum": ["star_salmon", "hisat2"],
                            "default": "star_salmon", "description": "Aligner and quantifier."},
                "min_mapped_reads": {"type": "number", "minimum": 0, "maximum": 100, "default": 5,
                                     "description": "Leave out samples mapping fewer reads (%)."},
                "skip_trimming": {"type": "boolean", "default": False,
                                  "description": "Skip adapter trimming."},
            },
        },
        "max_job_request_options": {
            "title": "Max job request options",
            "type": "object",
            "properties": {
                "max_cpus": {"type": "integer", "default": 16, "hidden": True,
                             "description": "Most CPUs a task may ask for."},
                "max_memory": {"type": "string", "default": "128.GB", "hidden": True,
                               "pattern": "^\\d+(\\.\\d+)?\\.?\\s*(K|M|G|T)?B$",
                               "description": "Most memory a task may ask for."},
            },
        },
    },
    "allOf": [
        {"$ref": "#/definitions/input_output_options"},
        {"$ref": "#/definitions/reference_genome_options"},
        {"$ref": "#/definitions/alignment_options"},
        {"$ref": "#/definitions/max_job_request_options"},
    ],
}  # fmt: skip
SCHEMA_INPUT = json.loads(
    (Path(__file__).parents[1] / "pipelines/fixtures/rnaseq_schema_input.json").read_text()
)
# A script pipeline that waits (to be watched running, and cancelled) or fails with a reason.
WAIT_SPEC = """\
name: demo-wait
description: Waits a while, or fails on purpose (for trying the run pages).
command:
  - "{python}"
  - "-c"
  - |
    import json, os, sys, time
    p = json.load(open(os.environ["MANTLE_PARAMS_FILE"]))
    print("waiting", p["seconds"], "seconds", flush=True)
    if p.get("fail"):
        sys.exit("reference index missing: build it first with --make_index")
    for i in range(int(p["seconds"])):
        print("still waiting", i, flush=True)
        time.sleep(1)
params:
  type: object
  properties:
    seconds: {type: integer, minimum: 1, maximum: 3600, default: 300,
              description: How long to wait.}
    fail: {type: boolean, default: false, description: Fail at once instead.}
"""


@dataclass
class Lab:
    url: str
    slug: str
    member_email: str
    viewer_email: str
    member_token: str
    datasets: list[dict]
    nf_repo: str

    def href(self, path: str = "") -> str:
        return f"{self.url}/t/{self.slug}{path}"

    def api(self, method: str, path: str, status: int = 200, **kwargs):
        response = httpx.request(
            method,
            f"{self.url}/api/v1/tenants/{self.slug}{path}",
            headers={"Authorization": f"Bearer {self.member_token}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture(scope="module")
def lab(live_server, tmp_path_factory) -> Lab:
    url, tag = live_server.url, secrets.token_hex(3)
    slug = new_tenant(live_server, "Pipes lab", "pipes")
    member, viewer = f"sci-{tag}@lab.example", f"viewer-{tag}@lab.example"
    add_member(live_server, slug, member, PASSWORD, "member")
    add_member(live_server, slug, viewer, PASSWORD, "viewer")
    token = api_token(url, member, PASSWORD, slug)

    files = tmp_path_factory.mktemp("fastq")
    for sample in ("S1", "S2"):
        for read in ("R1", "R2"):
            (files / f"{sample}_{read}.fastq.gz").write_bytes(gzip.compress(FASTQ))
    with Client(url, token, tenant=slug) as client:
        # As `mantle upload *.fastq.gz --type fastq_pair` does: pairs and their properties.
        fastq_pair = client.data_types.get("fastq_pair")
        samples = plan_samples(sorted(files.iterdir()), fastq_pair, {})
        datasets = [
            client.uploads.upload(s.paths, data_type="fastq_pair", name=f"{s.name} reads",
                                  properties=s.properties).model_dump(mode="json")
            for s in samples
        ]  # fmt: skip

    repos = tmp_path_factory.mktemp("repos")
    nf = Repo(repos / "rnaseq-lite")
    nf.commit({"main.nf": "workflow { log.info 'hello' }\n", "nextflow_schema.json": NF_SCHEMA,
               "assets/schema_input.json": SCHEMA_INPUT})  # fmt: skip
    nf.tag("1.0.0")
    wait = Repo(repos / "demo-wait")
    wait.commit({"mantle.yml": WAIT_SPEC})
    result = Lab(url, slug, member, viewer, token, datasets, nf.url)
    result.api("POST", "/pipelines", 201, json={"repository": wait.url, "name": "demo-wait"})
    return result


def _sign_in(page, lab: Lab, email: str, path: str) -> None:
    """Signs in and lands on `path` (its query string kept through the login's `next`)."""
    sign_in(page, lab.url, email, PASSWORD, quote(f"/t/{lab.slug}{path}", safe="/"))


def _wait_for_status(page, status: str, timeout: int = RUN_END) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    badge = page.locator(".page-header .badge").first
    expect(badge).to_have_text(status.lower(), timeout=timeout)


def test_pipelines_list_add_from_git_and_pipeline_page(page, lab, page_problems):
    page_problems.allow(r"status of 422")  # the unreachable repository below, on purpose
    _sign_in(page, lab, lab.member_email, "/pipelines")
    table = page.get_by_test_id("pipelines-table")
    expect(table.get_by_role("link", name="fastq-stats", exact=True)).to_be_visible()
    expect(table.get_by_text("built into Mantle")).to_be_visible()

    page.get_by_role("button", name="Add pipeline").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Git repository").fill("/nowhere/no-such-repo")
    dialog.get_by_role("button", name="Add pipeline").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Could not add the pipeline")
    shot(page, "pipelines-add-error")

    dialog.get_by_label("Git repository").fill(lab.nf_repo)
    dialog.get_by_label("Revision").fill("1.0.0")
    dialog.get_by_label("Name").fill("rnaseq-lite")
    dialog.get_by_role("button", name="Add pipeline").click()
    page.wait_for_url(re.compile(r"/pipelines/rnaseq-lite$"))
    expect(page.get_by_role("heading", name="rnaseq-lite", level=1)).to_be_visible()
    params = page.get_by_test_id("params")
    expect(params.get_by_role("heading", name="Reference genome")).to_be_visible()
    expect(params.get_by_text("--genome")).to_be_visible()
    expect(params.get_by_text("one of GRCh38, GRCm39, R64-1-1")).to_be_visible()
    expect(page.get_by_test_id("versions").get_by_text("1.0.0")).to_be_visible()
    expect(page.get_by_role("link", name="Launch v1")).to_be_visible()
    shot(page, "pipeline-page")

    page.get_by_role("link", name="← All pipelines").click()
    for name in ("fastq-stats", "demo-wait", "rnaseq-lite"):
        expect(
            page.get_by_test_id("pipelines-table").get_by_role("link", name=name, exact=True)
        ).to_be_visible()
    shot(page, "pipelines-list")


def test_launch_form_checks_params_before_submit_and_previews_the_samplesheet(page, lab):
    lab.api("GET", "/pipelines/rnaseq-lite")  # added by the test above (or add it here)
    ids = ",".join(d["short_id"] for d in lab.datasets)
    _sign_in(page, lab, lab.member_email, f"/launch?pipeline=rnaseq-lite&datasets={ids}")
    expect(page.get_by_role("heading", name="Launch rnaseq-lite")).to_be_visible()
    # The form: groups as sections, enums as selects, help text; platform params left out.
    form = page.get_by_test_id("launch-params")
    expect(form.get_by_text("Reference genome", exact=True)).to_be_visible()
    expect(form.get_by_text("Use GRCm39 for mouse")).to_be_visible()
    genome = page.locator("#root_reference_genome_options_genome")
    expect(genome.locator("option:checked")).to_have_text("GRCh38")
    expect(page.locator("#root_input_output_options_input")).to_have_count(0)
    expect(page.locator("#root_max_job_request_options_max_cpus")).to_have_count(0)
    form.get_by_label("Show hidden params (2)").check()
    expect(page.locator("#root_max_job_request_options_max_cpus")).to_have_value("16")

    sheet = page.get_by_test_id("samplesheet-preview")
    expect(sheet.locator("tbody tr")).to_have_count(2)
    expect(sheet.locator("thead")).to_contain_text("fastq_1")
    expect(sheet.locator("tbody tr").first).to_contain_text("S1_R1.fastq.gz")
    expect(page.get_by_test_id("input-count")).to_have_text("2 datasets selected")
    expect(page.get_by_test_id("resolved-params")).to_contain_text('"genome": "GRCh38"')
    shot(page, "launch-samplesheet")

    # A bad value is named beside its field on blur, before anything is sent.
    reads = page.locator("#root_alignment_options_min_mapped_reads")
    reads.fill("150")
    reads.blur()
    expect(page.get_by_text("must be at most 100")).to_be_visible()
    email = page.locator("#root_input_output_options_email")
    email.fill("not an email")
    page.get_by_role("button", name="Launch rnaseq-lite").click()
    expect(page.get_by_text("must match the pattern")).to_be_visible()
    assert "/launch" in page.url  # refused in the browser: no run was made
    assert lab.api("GET", "/runs", params={"pipeline": "rnaseq-lite"})["items"] == []
    genome.select_option(label="GRCm39")
    expect(page.get_by_test_id("resolved-params")).to_contain_text('"genome": "GRCm39"')
    page.evaluate("window.scrollTo(0, 0)")  # the preview column is sticky: shoot from the top
    shot(page, "launch-form")


def test_launch_fastq_stats_from_the_form_and_watch_it_succeed(page, lab):
    ids = ",".join(d["short_id"] for d in lab.datasets)
    _sign_in(page, lab, lab.member_email, f"/launch?pipeline=fastq-stats&datasets={ids}")
    expect(page.get_by_test_id("input-count")).to_have_text("2 datasets selected")
    expect(page.get_by_test_id("launch-preview")).to_contain_text("no samplesheet is written")
    page.locator("#root_parameters_title").fill("QC of two pairs")
    page.get_by_label("Run name").fill("stats from the browser")
    expect(page.get_by_test_id("resolved-params")).to_contain_text("QC of two pairs")
    # A double click launches once (the idempotency key, and the button goes busy).
    page.get_by_role("button", name="Launch fastq-stats").dblclick()
    page.wait_for_url(re.compile(r"/runs/run-\d+$"))
    _wait_for_status(page, "SUCCEEDED")
    runs = lab.api("GET", "/runs", params={"pipeline": "fastq-stats"})["items"]
    assert [r["name"] for r in runs].count("stats from the browser") == 1
    assert runs[0]["params"]["title"] == "QC of two pairs"

    timeline = page.get_by_test_id("timeline")
    for status in ("queued", "submitted", "running", "succeeded"):
        expect(timeline.get_by_text(status, exact=True)).to_be_visible()
    outputs = page.get_by_test_id("run-outputs")
    expect(outputs.get_by_role("link", name="fastq stats", exact=True)).to_be_visible()
    link = outputs.get_by_role("link", name=re.compile(r"fastq stats report"))
    assert re.search(rf"/t/{lab.slug}/datasets/DS-\d+$", link.get_attribute("href") or "")
    inputs = page.get_by_test_id("inputs")
    # Inputs by name, with their ids beside them.
    first = inputs.get_by_role("listitem").filter(has_text=lab.datasets[0]["short_id"])
    expect(first.get_by_role("link", name=lab.datasets[0]["name"], exact=True)).to_be_visible()
    expect(page.get_by_test_id("tasks")).to_be_visible()
    log = page.get_by_test_id("run-log")
    expect(log).not_to_be_empty()
    shot(page, "run-succeeded")

    page.get_by_label("Launcher log").check()
    expect(page.get_by_test_id("run-log")).to_contain_text("fastq")
    page.get_by_role("searchbox", name="Search the log").fill("outputs")
    expect(page.get_by_test_id("run-log").locator("mark").first).to_be_visible()
    page.get_by_test_id("logs").scroll_into_view_if_needed()
    shot(page, "run-logs")


def test_cancel_a_running_run_and_see_why_another_failed(page, lab):
    _sign_in(page, lab, lab.member_email, "/launch?pipeline=demo-wait")
    expect(page.get_by_test_id("launch-inputs")).to_contain_text("takes no input datasets")
    page.get_by_label("Run name").fill("long wait")
    page.get_by_role("button", name="Launch demo-wait").click()
    page.wait_for_url(re.compile(r"/runs/run-\d+$"))
    _wait_for_status(page, "RUNNING")
    expect(page.get_by_test_id("run-log")).to_contain_text("still waiting", timeout=30_000)
    shot(page, "run-running")

    page.get_by_role("button", name="Cancel run").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("wrong samples")
    dialog.get_by_role("button", name="Cancel the run").click()
    _wait_for_status(page, "CANCELLED", timeout=30_000)
    expect(page.get_by_test_id("timeline")).to_contain_text("wrong samples")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    shot(page, "run-cancelled")

    failed = lab.api("POST", "/runs", 201, json={
        "pipeline": "demo-wait", "name": "doomed", "params": {"fail": True}})  # fmt: skip
    page.goto(lab.href(f"/runs/{failed['short_id']}"))
    _wait_for_status(page, "FAILED")
    expect(page.get_by_test_id("failure-reason")).to_be_visible()
    expect(page.get_by_test_id("failure-reason")).not_to_have_text("")
    page.get_by_label("Launcher log").check()
    expect(page.get_by_test_id("run-log")).to_contain_text(
        "reference index missing", timeout=30_000
    )
    shot(page, "run-failed")

    page.goto(lab.href("/runs"))
    table = page.get_by_test_id("runs-table")
    expect(table.get_by_role("link", name="doomed")).to_be_visible()
    expect(table.get_by_role("link", name="long wait")).to_be_visible()
    shot(page, "runs-list")
    # The filters live in the URL: the box shows checked once the navigation (a React
    # transition) commits, which `check()` does not wait for.
    failed = page.get_by_label("failed", exact=True)
    failed.click()
    page.wait_for_url(re.compile(r"status=FAILED"))
    expect(failed).to_be_checked()
    expect(table.get_by_role("link", name="doomed")).to_be_visible()
    expect(table.get_by_role("link", name="long wait")).to_have_count(0)
    expect(table.get_by_text("cancelled")).to_have_count(0)
    shot(page, "runs-list-failed")


def test_a_viewer_sees_runs_but_no_launch_or_cancel(page, lab):
    running = lab.api("POST", "/runs", 201, json={"pipeline": "demo-wait", "name": "viewer sees"})
    try:
        _sign_in(page, lab, lab.viewer_email, "/pipelines")
        expect(
            page.get_by_test_id("pipelines-table").get_by_role(
                "link", name="fastq-stats", exact=True
            )
        ).to_be_visible()
        expect(page.get_by_role("button", name="Add pipeline")).to_have_count(0)
        expect(page.get_by_role("link", name=re.compile("^Launch"))).to_have_count(0)
        page.goto(lab.href(f"/runs/{running['short_id']}"))
        expect(page.get_by_role("heading", name="viewer sees")).to_be_visible()
        expect(page.get_by_test_id("timeline")).to_be_visible()
        for name in ("Cancel run", "Relaunch", "Resume"):
            expect(page.get_by_role("button", name=name)).to_have_count(0)
        page.goto(lab.href("/runs"))
        expect(page.get_by_role("link", name="Launch a pipeline")).to_have_count(0)
        expect(
            page.get_by_test_id("runs-table").get_by_role("link", name="viewer sees")
        ).to_be_visible()
    finally:
        lab.api("POST", f"/runs/{running['short_id']}/cancel", json={})
