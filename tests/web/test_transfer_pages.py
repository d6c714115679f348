"""Upload and import pages in a real browser.

On the shared SQLite live server (local file store): a folder upload with progress that ends
in a dataset, and an upload that a page reload interrupts and that continues, when the file
is picked again, without sending the finished part twice. On a live server of this module
whose object store is S3 on a moto server with its global CORS turned off: the browser sends
parts straight to S3 under the CORS rules of Mantle's setup kit, and imports pairs from a
read bucket with the live pattern preview."""

from __future__ import annotations

import json
import os
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.aws import FAKE_AWS_ENV, REGION
from tests.live import start_live_server, stop_live_server
from tests.web.conftest import admin_headers, new_tenant, shot, sign_in

pytestmark = pytest.mark.browser

MiB = 1024 * 1024


@pytest.fixture
def tenant(live_server) -> str:
    return new_tenant(live_server, "Transfer lab", "xfer")


def _puts(page) -> list[str]:
    """URLs of the PUTs the page sends (parts to storage) from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.method == "PUT" else None)
    return seen


class HeldRequests:
    """Holds requests whose URL matches until `release()`: a slow network, on demand. After
    `stop()` new requests pass; those held stay held (a reload drops them unsent)."""

    def __init__(self, page, pattern: str, hold) -> None:
        self.page, self.pattern, self.hold, self.held = page, pattern, hold, []
        self.holding = True
        page.route(pattern, self._route)

    def _route(self, route) -> None:
        if self.holding and self.hold(route.request):
            self.held.append(route)
        else:
            route.continue_()

    def stop(self) -> None:
        self.holding = False

    def release(self) -> None:
        self.holding = False
        held, self.held = self.held, []
        for route in held:
            route.continue_()


def test_upload_a_folder_with_progress_then_open_the_dataset(page, live_server, tenant, tmp_path):
    folder = tmp_path / "plate-42"
    (folder / "qc").mkdir(parents=True)
    (folder / "layout.csv").write_text("well,sample\nA1,S1\nA2,S2\n")
    (folder / "qc" / "notes.txt").write_text("all wells passed\n")
    (folder / "images.bin").write_bytes(os.urandom(9 * MiB))  # two parts of 8 MiB
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password,
            f"/t/{tenant}/upload")  # fmt: skip
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()
    expect(page.get_by_test_id("upload-plan")).to_contain_text("Add files or a folder above")

    page.get_by_test_id("folder-input").set_input_files(folder)
    picked = page.get_by_test_id("picked-files")
    expect(picked).to_contain_text("3 files")
    expect(picked).to_contain_text("plate-42/qc/notes.txt")
    expect(page.get_by_label("Data type")).to_have_value("directory")  # a folder's type
    expect(page.get_by_test_id("upload-summary")).to_contain_text(
        "One dataset, plate-42, with 3 files"
    )
    page.get_by_label("Tags").fill("plates, qc")
    shot(page, "upload-page")

    # The big file's second part waits, so the page shows an upload under way.
    held = HeldRequests(page, "**/storage/o/**", lambda r: "part_number=2" in r.url)
    puts = _puts(page)
    page.get_by_role("button", name="Upload", exact=True).click()
    run = page.get_by_test_id("upload-run")
    expect(run.get_by_role("heading", name="Uploading")).to_be_visible()
    expect(page.get_by_role("progressbar", name="plate-42/layout.csv progress")).to_have_attribute(
        "value", re.compile(r"^\d+$")
    )
    page.wait_for_function(
        "() => { const p = document.querySelector("
        "'progress[aria-label=\"Upload progress, all files\"]');"
        " return p && p.value > 8 * 1024 * 1024 && p.value < p.max; }"
    )
    expect(run).to_contain_text("left")
    shot(page, "upload-progress")
    held.release()

    expect(run.get_by_role("heading", name="Upload complete")).to_be_visible(timeout=30_000)
    assert sum("part_number=" in u for u in puts) == 2 and len(puts) == 4
    done = page.get_by_role("status").filter(has_text="Created 1 dataset")
    expect(done).to_be_visible()
    shot(page, "upload-done")

    dataset = _datasets(live_server, tenant)[0]
    assert dataset["name"] == "plate-42" and dataset["data_type"] == "directory"
    assert dataset["tags"] == ["plates", "qc"]
    assert sorted(f["name"] for f in dataset["files"]) == [
        "plate-42/images.bin", "plate-42/layout.csv", "plate-42/qc/notes.txt",
    ]  # fmt: skip
    assert all(f["checksum"].startswith("crc32:") for f in dataset["files"])
    done.get_by_role("link").click()
    page.wait_for_url(f"**/t/{tenant}/datasets/{dataset['id']}")


def test_files_already_in_a_dataset_are_not_sent_again_unless_asked(
    page, live_server, tenant, tmp_path
):
    """Like `mantle upload`: the same files (names, sizes, CRC32s) of the same type are that
    dataset, nothing is sent; "Upload again" makes a second one."""
    folder = tmp_path / "plate-7"
    folder.mkdir()
    (folder / "layout.csv").write_text("well,sample\nA1,S1\n")
    (folder / "reads.bin").write_bytes(os.urandom(300_000))
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password,
            f"/t/{tenant}/upload")  # fmt: skip
    run = page.get_by_test_id("upload-run")
    puts = _puts(page)
    for attempt in ("first", "again", "duplicate"):
        if attempt != "first":
            page.get_by_role("button", name="Upload more").click()
        page.get_by_test_id("folder-input").set_input_files(folder)
        if attempt == "duplicate":
            page.get_by_label("Upload again even if a dataset already holds the same files").check()
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(run.get_by_role("heading", name="Upload complete")).to_be_visible(timeout=30_000)
        if attempt == "again":
            expect(page.get_by_role("status").filter(has_text="Already in Mantle")).to_contain_text(
                "plate-7"
            )
            shot(page, "upload-already-there")
        else:
            expect(page.get_by_role("status").filter(has_text="Created 1 dataset")).to_be_visible()
        sent = len(puts)
        puts.clear()
        assert sent == (0 if attempt == "again" else 2), (attempt, sent)
    assert [d["name"] for d in _datasets(live_server, tenant)] == ["plate-7", "plate-7"]


def _datasets(server, tenant: str) -> list[dict]:
    response = httpx.get(
        f"{server.url}/api/v1/tenants/{tenant}/datasets", headers=admin_headers(server, tenant)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_upload_continues_after_a_reload_without_resending_parts(
    page, live_server, tenant, tmp_path
):
    big = tmp_path / "scan.tiff"
    big.write_bytes(os.urandom(12 * MiB))  # parts of 8 and 4 MiB
    sign_in(page, live_server.url, live_server.admin_email, live_server.admin_password,
            f"/t/{tenant}/upload")  # fmt: skip
    page.get_by_test_id("files-input").set_input_files(big)
    expect(page.get_by_label("Data type")).to_have_value("file")
    held = HeldRequests(page, "**/storage/o/**", lambda r: "part_number=2" in r.url)
    page.get_by_role("button", name="Upload", exact=True).click()
    # Part 1 is stored and remembered; part 2 is on its way when the page reloads.
    page.wait_for_function(
        "() => Object.keys(localStorage).filter(k => k.startsWith('mantle.transfer.uploads:'))"
        ".some(k => Object.values(JSON.parse(localStorage.getItem(k)))"
        ".some(r => (r.done['scan.tiff'] || []).includes(1)))"
    )
    assert len(held.held) == 1
    held.stop()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" while uploading
    page.reload()

    unfinished = page.get_by_test_id("unfinished-uploads")
    expect(unfinished).to_contain_text("scan.tiff")
    expect(unfinished).to_contain_text("8.0 MB of 12 MB sent")
    shot(page, "upload-resume")
    puts = _puts(page)
    page.get_by_test_id("files-input").set_input_files(big)
    expect(page.get_by_text("These files continue the unfinished upload")).to_be_visible()
    page.get_by_role("button", name="Continue upload").click()

    run = page.get_by_test_id("upload-run")
    expect(run.get_by_role("heading", name="Upload complete")).to_be_visible(timeout=30_000)
    expect(run).to_contain_text("1 part already in storage, not sent again")
    assert len(puts) == 1 and "part_number=2" in puts[0], puts
    expect(page.get_by_test_id("unfinished-uploads")).to_have_count(0)
    dataset = next(d for d in _datasets(live_server, tenant) if d["name"] == "scan.tiff")
    assert dataset["files"][0]["size"] == 12 * MiB
    assert dataset["files"][0]["checksum"].startswith("crc32:")  # from both parts' CRC32s


# --- on S3 (moto, CORS as on AWS) ----------------------------------------------------------


@pytest.fixture(scope="module")
def aws_live(cors_moto, tmp_path_factory):
    """A live server whose object store is the environment's write bucket on moto, with an
    environment (write bucket + a read bucket of FASTQ pairs) and the kit's CORS rules."""
    suffix = uuid.uuid4().hex[:10]
    write, read = f"mantle-write-{suffix}", f"seq-raw-{suffix}"
    s3 = cors_moto.client("s3")
    for bucket in (write, read):
        s3.create_bucket(Bucket=bucket)
    for sample in ("S1", "S2", "S3"):
        for r in ("R1", "R2"):
            key = f"raw/run-0917/{sample}_L001_{r}_001.fastq.gz"
            s3.put_object(Bucket=read, Key=key, Body=f"@{sample}{r}\nACGT\n+\nIIII\n".encode())
    s3.put_object(Bucket=read, Key="raw/run-0917/SampleSheet.csv", Body=b"sample\nS1\n")
    s3.put_object(Bucket=read, Key="raw/run-0917/S4_L001_R1_001.fastq.gz", Body=b"lonely")
    s3.put_object(Bucket=read, Key="raw/run-0920/S9_L001_R1_001.fastq.gz", Body=b"later")

    server = start_live_server(
        tmp_path_factory.mktemp("live-aws"),
        extra_env={
            **FAKE_AWS_ENV,
            "MANTLE_AWS__ENDPOINT_URL": cors_moto.endpoint_url,
            "MANTLE_STORAGE__ROOT": f"s3://{write}/mantle",
            "MANTLE_STORAGE__S3_ENDPOINT_URL": cors_moto.endpoint_url,
            "MANTLE_STORAGE__S3_REGION": REGION,
        },
        log_name="server-aws.log",
    )
    try:
        headers = admin_headers(server, server.tenant)
        api = f"{server.url}/api/v1/tenants/{server.tenant}"
        body = {
            "name": "lab-aws", "region": REGION, "account_id": "123456789012",
            "credentials": {"kind": "keys", "access_key_id": "AKIAMANTLEWEBTEST042",
                            "secret_access_key": "web-test-secret-0123456789abcdef"},
            "write_bucket": write, "write_prefix": "mantle",
            "read_buckets": [{"bucket": read, "prefix": "raw"}], "head_queue": "mantle-head",
        }  # fmt: skip
        created = httpx.post(f"{api}/environments", json=body, headers=headers)
        assert created.status_code == 201, created.text
        kit = httpx.get(f"{api}/environments/lab-aws/setup-kit", headers=headers).json()["files"]
        s3.put_bucket_cors(
            Bucket=write, CORSConfiguration=json.loads(kit["cors-write-bucket.json"])
        )
        s3.put_bucket_cors(Bucket=read, CORSConfiguration=json.loads(kit["cors-read-buckets.json"]))
        server.extra.update(write=write, read=read, moto=cors_moto, headers=headers)
        yield server
    finally:
        stop_live_server(server)


DROP_PAIR = """() => {
  const data = new DataTransfer();
  const r1 = new Uint8Array(9 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  data.items.add(new File([r1], "P7_R1_001.fastq.gz"));
  data.items.add(new File([new Uint8Array(3000).fill(65)], "P7_R2_001.fastq.gz"));
  const zone = document.querySelector("[data-testid=drop-zone]");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


def test_upload_goes_straight_to_s3_under_the_kits_cors_rules(page, aws_live):
    """The pair is dropped on the page (a drop built in the page: R1 of 9 MiB goes in two
    CRC32-signed parts, R2 as one create-only PUT), so CORS preflights carry those headers."""
    server = aws_live
    sign_in(page, server.url, server.admin_email, server.admin_password,
            f"/t/{server.tenant}/upload")  # fmt: skip
    puts = _puts(page)
    page.get_by_test_id("drop-zone").wait_for()
    page.evaluate(DROP_PAIR)
    expect(page.get_by_label("Data type")).to_have_value("fastq_pair")
    expect(page.get_by_test_id("upload-summary")).to_contain_text("One dataset, P7, with 2 files")
    page.get_by_role("button", name="Upload", exact=True).click()
    run = page.get_by_test_id("upload-run")
    expect(run.get_by_role("heading", name="Upload complete")).to_be_visible(timeout=30_000)

    moto = server.extra["moto"].endpoint_url
    assert len(puts) == 3 and all(u.startswith(moto) for u in puts), puts
    dataset = next(d for d in _datasets(server, server.tenant) if d["name"] == "P7")
    assert dataset["properties"]["sample"] == "P7"
    assert dataset["properties"]["read1"].startswith(f"s3://{server.extra['write']}/mantle/")
    listed = server.extra["moto"].client("s3").list_objects_v2(Bucket=server.extra["write"])
    sizes = {o["Key"].rsplit("/", 1)[1]: o["Size"] for o in listed.get("Contents", [])}
    assert sizes["P7_R1_001.fastq.gz"] == 9 * MiB and sizes["P7_R2_001.fastq.gz"] == 3000


def test_import_pairs_from_a_read_bucket_with_the_live_preview(page, aws_live, page_problems):
    page_problems.allow(r"422")  # the refused pattern below: the preview answers 422
    server = aws_live
    sign_in(page, server.url, server.admin_email, server.admin_password,
            f"/t/{server.tenant}/import")  # fmt: skip
    listing = page.get_by_test_id("bucket-listing")
    expect(listing).to_contain_text("run-0917/")
    expect(listing).to_contain_text("run-0920/")
    listing.get_by_role("button", name="run-0917/").click()
    expect(listing).to_contain_text("S1_L001_R1_001.fastq.gz")
    expect(page.get_by_label("Prefix")).to_have_value("raw/run-0917/")
    preview = page.get_by_test_id("import-preview")
    table = page.get_by_test_id("preview-table")
    expect(table.locator("tbody tr")).to_have_count(4)  # S1-S3, and S4 without its R2
    expect(preview.get_by_text("updating…")).to_have_count(0)
    shot(page, "import-browse")
    expect(preview).to_contain_text("3 new datasets")
    expect(preview).to_contain_text("skipped: no object for read2")
    page.get_by_text(re.compile(r"match(es)? no pattern")).click()
    expect(page.get_by_test_id("unmatched-keys")).to_contain_text("SampleSheet.csv")

    read2 = page.get_by_label("Pattern for read2", exact=True)
    good = read2.input_value()
    read2.fill(r"(?P<sample>[^/]+)(?=_R2)")  # a lookahead: RE2 refuses it, naming the pattern
    expect(preview.get_by_role("alert")).to_contain_text("pattern 'read2'")
    expect(preview.get_by_role("alert")).to_contain_text("RE2")
    shot(page, "import-preview-refused")
    read2.fill(good)
    page.get_by_label("Dataset name", exact=True).fill("{sample}-run0917")
    expect(table).to_contain_text("S2_L001-run0917")
    shot(page, "import-preview")

    page.get_by_role("button", name="Start import").click()
    progress = page.get_by_test_id("import-progress")
    expect(progress.locator(".badge")).to_have_text("succeeded", timeout=30_000)
    expect(progress.locator(".import-count").nth(2)).to_have_text("3datasets created")
    expect(progress).to_contain_text("S4_L001")  # the skipped group, with why
    shot(page, "import-progress")
    expect(page.get_by_test_id("past-imports").locator("tbody tr")).to_have_count(1)

    made = [d for d in _datasets(server, server.tenant) if d["origin"] == "import"]
    assert sorted(d["name"] for d in made) == [f"S{i}_L001-run0917" for i in (1, 2, 3)]
    # Imported again: the preview says they exist; nothing new would be made.
    page.reload()
    page.get_by_test_id("bucket-listing").get_by_role("button", name="run-0917/").click()
    expect(page.get_by_test_id("import-preview")).to_contain_text("3 already imported")
