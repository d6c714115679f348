"""Home, API tokens, members and invitations, and AWS environments in a real browser.

Home, tokens and members use the session's shared SQLite server, each in a tenant of its own.
Environments use a module-scoped server whose AWS calls go to a moto server of this module,
run as its own process with MOTO_DISABLE_GLOBAL_CORS=true (so a bucket answers a browser's CORS
check only by its own rules), with part of a customer setup made in it: the doctor then shows
both passing checks and failures with their fixes."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from mantle.client import Client
from mantle.cloud.aws import cors
from tests.aws import FAKE_AWS_ENV, REGION
from tests.aws_env.conftest import compute_queue, env_public, head_job_role
from tests.live import start_live_server, stop_live_server
from tests.web.conftest import admin_headers, admin_token, new_tenant, shot, sign_in, unique

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def watch_console(page, problems: list[str]) -> None:
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))


# --- sign-in page and home -------------------------------------------------------------------


def test_sign_in_page_looks_like_the_app(page, live_server):
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".auth-brand")).to_have_text("Mantle")
    # The app's accent colour on the primary button, the app's font.
    button = page.locator("button[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 95, 191)"
    shot(page, "admin-sign-in")


def test_home_says_what_to_do_when_empty_then_shows_recent_runs_and_datasets(
    page, live_server, tmp_path
):
    slug = new_tenant(live_server, "Home Lab", "adm")
    sign_in(
        page, live_server.url, live_server.admin_email, live_server.admin_password, f"/t/{slug}"
    )
    expect(page.get_by_role("heading", name="Home Lab")).to_be_visible()
    runs = page.get_by_test_id("recent-runs")
    datasets = page.get_by_test_id("recent-datasets")
    expect(runs.get_by_test_id("empty-state")).to_contain_text("No runs yet")
    expect(datasets.get_by_test_id("empty-state")).to_contain_text(
        "Upload FASTQ files or import them from your bucket"
    )
    actions = page.get_by_role("navigation", name="Quick actions")
    for label in ("Upload data", "Launch a pipeline", "Import from S3"):
        expect(actions.get_by_role("link", name=label)).to_be_visible()
    shot(page, "admin-home-empty")

    client = Client(live_server.url, admin_token(live_server, slug), tenant=slug)
    reads = tmp_path / "S1.fastq.gz"
    reads.write_bytes(gzip.compress(b"@r1\nACGTGC\n+\nIIIIII\n@r2\nGGCC\n+\nIIII\n"))
    dataset = client.datasets.upload(
        [reads], data_type="fastq", properties={"sample": "S1", "reads": "S1.fastq.gz"}
    )
    run = client.runs.launch("fastq-stats", inputs=[dataset.short_id], name="stats of S1")
    assert run.wait(timeout=60, poll=0.5).status == "SUCCEEDED"

    page.reload()
    expect(runs.get_by_role("link", name="stats of S1")).to_be_visible()
    expect(runs.locator(".badge")).to_have_text("succeeded")
    expect(datasets.get_by_role("link", name="S1.fastq.gz")).to_be_visible()
    # The run's outputs are datasets too: the newest first.
    assert datasets.locator("li").count() >= 2
    runs.get_by_role("link", name="stats of S1").click()
    page.wait_for_url(re.compile(rf"/t/{slug}/runs/{run.short_id}$"))
    page.go_back()
    expect(runs.get_by_role("link", name="stats of S1")).to_be_visible()
    shot(page, "admin-home")


# --- API tokens ------------------------------------------------------------------------------


def test_a_token_is_shown_once_works_as_bearer_and_stops_when_revoked(page, live_server):
    slug = new_tenant(live_server, "Token Lab", "adm")
    sign_in(
        page, live_server.url, live_server.admin_email, live_server.admin_password, f"/t/{slug}"
    )
    page.get_by_test_id("who").click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url(f"{live_server.url}/t/{slug}/tokens")
    # The URL changes at once; the page shows when its chunk is in (the home page until then).
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No API tokens yet")

    page.get_by_label("Name").fill("laptop CLI")
    page.get_by_label("Scope").select_option("read")
    page.get_by_label("Expires in (days)").fill("30")
    page.get_by_role("button", name="Create token").click()
    created = page.get_by_test_id("token-created")
    expect(created).to_contain_text("shown only once")
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("mtk_")
    expect(created.get_by_role("button", name="Copy token")).to_be_visible()
    shot(page, "admin-tokens-created")

    me = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["token_scope"] == "read"
    assert me.json()["tenant"]["slug"] == slug

    page.reload()  # shown once: never again
    table = page.get_by_test_id("tokens")
    row = table.locator("tr", has_text="laptop CLI")
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("active")
    assert token not in page.content()
    shot(page, "admin-tokens")

    row.get_by_role("button", name="Revoke laptop CLI").click()
    dialog = page.get_by_role("dialog", name="Revoke this token?")
    expect(dialog).to_contain_text("stops working at once")
    dialog.get_by_role("button", name="Revoke token").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke laptop CLI")).to_have_count(0)
    me = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


# --- members, invitation, viewer ---------------------------------------------------------------


def test_invite_sign_up_change_role_and_the_viewer_sees_no_admin_actions(
    page, browser, live_server, page_problems
):
    page_problems.allow(r"409 \(Conflict\)")  # removing the last owner, below, on purpose
    slug = new_tenant(live_server, "Member Lab", "adm")
    email = f"{unique('newbie')}@example.com"
    sign_in(
        page, live_server.url, live_server.admin_email, live_server.admin_password, f"/t/{slug}"
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    page.wait_for_url(f"{live_server.url}/t/{slug}/members")
    members = page.get_by_test_id("members-table")
    expect(members.locator("tr", has_text=live_server.admin_email)).to_contain_text("(you)")

    # The last owner cannot be removed: said in words.
    members.get_by_role("button", name=f"Remove {live_server.admin_email}").click()
    dialog = page.get_by_role("dialog", name="Remove this member?")
    dialog.get_by_role("button", name="Remove member").click()
    expect(dialog.get_by_role("alert")).to_contain_text("a tenant needs at least one owner")
    dialog.get_by_role("button", name="Cancel").click()

    page.get_by_label("Email").fill(email)
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invitation-link").inner_text()
    assert link.startswith(f"{live_server.url}/invite?token=")
    expect(page.get_by_test_id("invitation-created")).to_contain_text("shown only once")
    expect(page.get_by_test_id("invitations").locator("tr", has_text=email)).to_contain_text(
        "member"
    )
    shot(page, "admin-members")

    # The invitee, in a browser of their own, signs up from the link.
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    try:
        invitee = context.new_page()
        watch_console(invitee, problems)
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name="You are invited")).to_be_visible()
        expect(invitee.get_by_role("link", name="sign in")).to_have_attribute(
            "href", re.compile(r"^/login\?next=%2Finvite%3Ftoken%3D")
        )
        invitee.get_by_label("Your name").fill("Nia Newbie")
        invitee.get_by_label("Password", exact=True).fill(PASSWORD)
        invitee.get_by_label("Repeat the password").fill(PASSWORD)
        shot(invitee, "admin-invite-signup")
        invitee.get_by_role("button", name="Create account and join").click()
        invitee.wait_for_url(f"{live_server.url}/t/{slug}")
        expect(invitee.get_by_test_id("who")).to_have_text(email)
        # The invitation link (its token) was replaced in the tab's history, not kept: Back
        # goes to where the tab was before it (a new tab: about:blank).
        invitee.go_back()
        assert "token" not in invitee.url, invitee.url
        invitee.go_forward()
        expect(invitee.get_by_test_id("who")).to_have_text(email)

        # The admin makes them a viewer.
        page.get_by_role("button", name="Done").click()
        page.reload()
        role = page.get_by_label(f"Role of {email}")
        with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
            role.select_option("viewer")
        assert patched.value.ok
        expect(role).to_have_value("viewer")
        expect(page.get_by_test_id("invitations").locator("tr", has_text=email)).to_have_count(0)

        # As a viewer: no admin navigation, no write actions, and admin pages say so.
        invitee.reload()
        nav = invitee.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Runs")).to_be_visible()
        expect(nav.get_by_role("link", name="Members")).to_have_count(0)
        expect(nav.get_by_role("link", name="Environments")).to_have_count(0)
        expect(nav.get_by_role("link", name="Upload")).to_have_count(0)  # viewers cannot write
        expect(nav.get_by_role("link", name="Import")).to_have_count(0)
        expect(invitee.get_by_role("navigation", name="Quick actions")).to_have_count(0)
        expect(invitee.get_by_role("link", name="Upload data")).to_have_count(0)
        expect(invitee.get_by_text("You are a viewer here.")).to_be_visible()
        shot(invitee, "admin-viewer-home")
        for path, what in (("members", "Members and their roles"), ("environments", "AWS")):
            invitee.goto(f"{live_server.url}/t/{slug}/{path}")
            notice = invitee.get_by_test_id("admins-only")
            expect(notice).to_contain_text("Admins only.")
            expect(notice).to_contain_text(what)
            expect(notice).to_contain_text("your role here is viewer")
            shot(invitee, f"admin-viewer-{path}")
        # Their own tokens they may still manage; no "every member's tokens" switch.
        invitee.goto(f"{live_server.url}/t/{slug}/tokens")
        expect(invitee.get_by_role("button", name="Create token")).to_be_visible()
        expect(invitee.get_by_label("Show every member's tokens")).to_have_count(0)
    finally:
        context.close()
    assert problems == []


def test_a_signed_in_user_accepts_an_invitation(page, live_server):
    """An existing account signs in from the invitation and accepts it."""
    slug = new_tenant(live_server, "Accept Lab", "adm")
    admin = admin_headers(live_server, slug)
    email = f"{unique('known')}@example.com"
    # The account exists (it joined another tenant before).
    other = new_tenant(live_server, "Elsewhere", "adm")
    first = httpx.post(
        f"{live_server.url}/api/v1/tenants/{other}/invitations",
        json={"email": email, "role": "member"},
        headers=admin_headers(live_server, other),
    ).json()["token"]
    httpx.post(
        f"{live_server.url}/api/v1/invitations/signup",
        json={"token": first, "password": PASSWORD},
    ).raise_for_status()
    token = httpx.post(
        f"{live_server.url}/api/v1/tenants/{slug}/invitations",
        json={"email": email, "role": "viewer"},
        headers=admin,
    ).json()["token"]

    page.goto(f"{live_server.url}/invite?token={token}")
    page.get_by_role("link", name="sign in").click()
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/invite\?token="))
    expect(page.get_by_test_id("who")).to_have_text(email)
    page.get_by_role("button", name="Accept invitation").click()
    page.wait_for_url(f"{live_server.url}/t/{slug}")
    expect(page.get_by_role("heading", name="Accept Lab")).to_be_visible()


# --- environments (AWS on moto) -----------------------------------------------------------------

KEY_ID = "AKIAMANTLEBROWSER042"
SECRET = "browser-test-secret-0123456789"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def aws(cors_moto):
    """Part of a customer's setup in moto: the write bucket, a read bucket without CORS, the
    Batch queue on a compute environment, the log group, the head job's role."""
    names = {
        "write": unique("write"),
        "read": unique("read"),
        "queue": unique("queue"),
        "ce": unique("ce"),
        "log_group": f"/aws/batch/{unique('job')}",
    }
    s3 = cors_moto.client("s3")
    for bucket in (names["write"], names["read"]):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=names["read"], Key="raw/S1.fastq", Body=b"@r\nACGT\n+\nIIII\n")
    cors_moto.client("logs").create_log_group(logGroupName=names["log_group"])
    env = env_public(
        name="prod",
        write_bucket=names["write"],
        write_prefix="mantle",
        read_buckets=[{"bucket": names["read"], "prefix": "raw"}],
        head_queue=names["queue"],
        compute_queue=names["queue"],
        log_group=names["log_group"],
    )
    compute_queue(cors_moto, env, names["ce"], names["queue"])
    names["s3"] = s3
    names["iam"] = cors_moto.client("iam")
    names["env"] = env
    return names


@pytest.fixture(scope="module")
def aws_server(cors_moto, aws, tmp_path_factory):
    live = start_live_server(
        tmp_path_factory.mktemp("admin-aws-live"),
        extra_env={"MANTLE_AWS__ENDPOINT_URL": cors_moto.endpoint_url, **FAKE_AWS_ENV},
        log_name="admin-aws.log",
    )
    try:
        # The write bucket answers the web app's origin; the read bucket has no CORS rules.
        rules = cors.rules(live.url, cors.WRITE_METHODS)
        aws["s3"].put_bucket_cors(Bucket=aws["write"], CORSConfiguration=rules)
        head_job_role(aws["iam"], aws["env"], tenant=live.tenant)
        yield live
    finally:
        stop_live_server(live)


def test_create_an_environment_then_kit_doctor_and_provision_preview(page, aws_server, aws):
    server = aws_server
    base = f"{server.url}/t/{server.tenant}"
    sign_in(page, server.url, server.admin_email, server.admin_password, f"/t/{server.tenant}")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Environments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Environments"))
    expect(page.get_by_test_id("empty-state")).to_contain_text("No environments yet")
    page.get_by_role("button", name="New environment").first.click()

    form = page.get_by_test_id("environment-form")
    form.get_by_role("button", name="Create environment").click()  # empty: said in words
    expect(form.get_by_text("Some fields need a look")).to_be_visible()
    form.get_by_label("Name", exact=True).fill("prod")
    form.get_by_label("AWS region").fill(REGION)
    form.get_by_label("AWS account id").fill(ACCOUNT)
    form.get_by_label("Access key of an IAM user").check()
    form.get_by_label("Access key id", exact=True).fill(KEY_ID)
    form.get_by_label("Secret access key").fill(SECRET)
    form.get_by_label("Write bucket", exact=True).fill(aws["write"])
    form.get_by_label("Prefix in the write bucket").fill("mantle")
    form.get_by_label("Read buckets").fill(f"{aws['read']}/raw")
    form.get_by_label("Head job queue", exact=True).fill(aws["queue"])
    form.locator("details.advanced summary").click()
    form.get_by_label("Log group").fill(aws["log_group"])
    shot(page, "admin-environment-form")
    form.get_by_role("button", name="Create environment").click()

    # Created: the setup kit is next.
    page.wait_for_url(f"{base}/environments/prod?tab=kit")
    files = page.get_by_test_id("kit-file")
    expect(files.first).to_contain_text("README.md")
    policy = files.filter(
        has=page.locator(".kit-name", has_text=re.compile(r"^platform-policy\.json$"))
    )
    with page.expect_download() as download:
        policy.get_by_role("button", name="Download platform-policy.json").click()
    assert download.value.suggested_filename == "platform-policy.json"
    document = json.loads(Path(download.value.path()).read_text())
    assert document["Version"] == "2012-10-17"
    assert aws["write"] in json.dumps(document)
    policy.locator("summary").click()  # opens to show the document
    expect(policy.locator("pre")).to_contain_text('"Statement"')
    expect(files.locator(".kit-name", has_text="cloudformation.yaml")).to_have_count(1)
    shot(page, "admin-environment-kit")

    # The doctor: passes, and failures with their fixes.
    page.get_by_role("tab", name="Doctor").click()
    page.get_by_role("button", name="Run the doctor").click()
    report = page.get_by_test_id("doctor-report")
    expect(report).to_be_visible(timeout=60_000)
    checks = report.get_by_test_id("check")
    expect(checks.filter(has_text="credentials").first).to_have_attribute("data-status", "pass")
    expect(report.locator("[data-status=pass]", has_text=f"write {aws['write']}")).to_have_count(1)
    cors_read = report.locator("[data-testid=check]", has_text=f"cors {aws['read']}")
    expect(cors_read).not_to_have_attribute("data-status", "pass")
    expect(cors_read.locator(".check-fix")).to_contain_text("Fix:")
    head_image = report.locator("[data-testid=check]", has_text="head image")
    expect(head_image).to_have_attribute("data-status", "fail")
    expect(head_image.locator(".check-fix")).to_contain_text("head-job.Dockerfile")
    expect(report.get_by_role("status").first).to_contain_text("checks failed")
    shot(page, "admin-environment-doctor")

    # Provision: a dry-run preview first; applying asks first.
    page.get_by_role("tab", name="Provision").click()
    page.get_by_role("button", name="Preview (dry run)").click()
    preview = page.get_by_test_id("provision-preview")
    expect(preview).to_contain_text("Dry run: nothing was created")
    expect(preview.locator("tbody tr").first).to_be_visible()
    expect(preview).to_contain_text("compute environment")
    apply = page.get_by_role("button", name=re.compile(r"^Apply \d+ changes?"))
    if apply.count():
        apply.click()
        dialog = page.get_by_role("dialog", name="Create these resources in AWS?")
        expect(dialog).to_contain_text(ACCOUNT)
        dialog.get_by_role("button", name="Cancel").click()
    shot(page, "admin-environment-provision")

    # The list shows the last doctor check.
    page.goto(f"{base}/environments")
    row = page.get_by_test_id("environments").locator("tr", has_text="prod")
    expect(row).to_contain_text("failing")
    expect(row).to_contain_text("checks failed")
    shot(page, "admin-environments")

    # Editing keeps the write-only secret unless a new one is typed.
    row.get_by_role("link", name="prod").click()
    form = page.get_by_test_id("environment-form")
    expect(form).to_contain_text(f"Access key ending in {KEY_ID[-4:]}")
    expect(form.get_by_label("Secret access key")).to_have_value("")
    assert SECRET not in page.content()
    form.get_by_label("Head job image").fill(
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mantle-head-job:0.1.0"
    )
    with page.expect_request(lambda r: r.method == "PATCH") as patch:
        form.get_by_role("button", name="Save changes").click()
    assert set(json.loads(patch.value.post_data)) == {"head_image"}
    expect(page.get_by_text("Saved. Run the doctor")).to_be_visible()
    page.get_by_role("tab", name="Doctor").click()
    page.get_by_role("button", name="Run the doctor").click()
    report = page.get_by_test_id("doctor-report")
    expect(report.locator("[data-testid=check]", has_text="credentials").first).to_have_attribute(
        "data-status", "pass", timeout=60_000
    )
    expect(report.locator("[data-testid=check]", has_text="head image")).to_have_attribute(
        "data-status", "pass"
    )
