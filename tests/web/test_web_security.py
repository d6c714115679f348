"""The web app under attack, in a real browser against the shared live server: what a hostile
pipeline author, a crafted link, another tenant's ids, a viewer, or the next person at the
same browser can get out of it.

The module makes its own tenant (through the admin's token) with a member and a viewer, a
second tenant with data of its own, and a Nextflow pipeline whose schema picks hostile names
and descriptions."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.pipelines.conftest import Repo
from tests.web.conftest import shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
MiB = 1024 * 1024
INJECTED_LINK = '<a id="injected" href="https://evil.example.com/phish">Sign in again</a>'
INJECTED_IMAGE = '<img id="injected-img" src="https://evil.example.com/pixel.png">'
HOSTILE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema",
    "title": "innocent pipeline",
    "type": "object",
    "definitions": {
        # rjsf reads `ui:` keys of its uiSchema as options: these two would turn every
        # description and help text into markdown with HTML.
        "ui:globalOptions": {
            "title": "Display",
            "type": "object",
            "properties": {
                "enableMarkdownInDescription": {"type": "boolean", "default": True},
                "enableMarkdownInHelp": {"type": "boolean", "default": True},
            },
        },
        "reads": {
            "title": "Reads",
            "type": "object",
            "properties": {
                "depth": {
                    "type": "integer",
                    "default": 30,
                    "description": f"Depth. {INJECTED_LINK}",
                    "help_text": f"**Mind** the depth {INJECTED_IMAGE}",
                },
            },
        },
    },
    "allOf": [{"$ref": "#/definitions/ui:globalOptions"}, {"$ref": "#/definitions/reads"}],
}


@dataclass
class Lab:
    url: str
    slug: str
    other_slug: str
    member_email: str
    viewer_email: str
    secret_dataset: dict  # the other tenant's

    def href(self, path: str = "") -> str:
        return f"{self.url}/t/{self.slug}{path}"


def _token(url: str, email: str, password: str, tenant: str | None) -> dict[str, str]:
    body = {"email": email, "password": password, "tenant": tenant, "token_name": "sec test"}
    response = httpx.post(f"{url}/api/v1/auth/token", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _tenant(live_server, slug: str, name: str) -> dict[str, str]:
    home = _token(live_server.url, live_server.admin_email, live_server.admin_password,
                  live_server.tenant)  # fmt: skip
    _ok(httpx.post(f"{live_server.url}/api/v1/tenants", headers=home, timeout=30,
                   json={"slug": slug, "name": name}), 201)  # fmt: skip
    return _token(live_server.url, live_server.admin_email, live_server.admin_password, slug)


def _join(url: str, admin: dict, slug: str, email: str, role: str) -> None:
    invited = _ok(httpx.post(f"{url}/api/v1/tenants/{slug}/invitations", headers=admin,
                             json={"email": email, "role": role}, timeout=30), 201)  # fmt: skip
    _ok(httpx.post(f"{url}/api/v1/invitations/signup", timeout=30,
                   json={"token": invited["token"], "password": PASSWORD}))  # fmt: skip


@pytest.fixture(scope="module")
def lab(live_server, tmp_path_factory) -> Lab:
    url, tag = live_server.url, secrets.token_hex(3)
    slug, other = f"sec-{tag}", f"sec-other-{tag}"
    admin = _tenant(live_server, slug, "Security lab")
    member, viewer = f"sec-member-{tag}@lab.example", f"sec-viewer-{tag}@lab.example"
    _join(url, admin, slug, member, "member")
    _join(url, admin, slug, viewer, "viewer")
    _ok(httpx.post(f"{url}/api/v1/tenants/{slug}/datasets", headers=admin, timeout=30,
                   json={"name": "our-sample", "data_type": "file"}), 201)  # fmt: skip

    theirs = _tenant(live_server, other, "Other lab")
    for name in ("their-first", "TOP-SECRET-compound"):
        body = {"name": name, "data_type": "file"}
        made = httpx.post(f"{url}/api/v1/tenants/{other}/datasets", headers=theirs, json=body)
        secret = _ok(made, 201)

    repo = Repo(tmp_path_factory.mktemp("repos") / "innocent")
    repo.commit({"main.nf": "workflow { log.info 'hi' }\n", "nextflow_schema.json": HOSTILE_SCHEMA})
    body = {"repository": repo.url, "revision": "main", "name": "innocent"}
    pipelines = f"{url}/api/v1/tenants/{slug}/pipelines"
    added = httpx.post(pipelines, headers=admin, json=body, timeout=60)
    _ok(added, 201)
    return Lab(url, slug, other, member, viewer, secret)


def _sign_in(page, lab: Lab, email: str, path: str) -> None:
    sign_in(page, lab.url, email, PASSWORD, quote(f"/t/{lab.slug}{path}", safe="/"))


# --- a hostile pipeline schema ---------------------------------------------------------------


def test_a_pipeline_schema_cannot_inject_html_into_the_launch_form(page, lab):
    """Descriptions and help texts are the pipeline author's: they show as text, and a group
    named `ui:globalOptions` does not switch rjsf's markdown (HTML) rendering on."""
    _sign_in(page, lab, lab.member_email, "/launch?pipeline=innocent")
    form = page.locator("form.rjsf")
    expect(form.get_by_label("depth")).to_have_value("30")
    expect(form).to_contain_text('<a id="injected"')  # shown as the text it is
    expect(form).to_contain_text("**Mind** the depth")
    assert page.locator("#injected, #injected-img, a[href*='evil.example.com']").count() == 0
    # The hostile group is an ordinary section of the form, titled as its author wrote.
    expect(form.get_by_label("enableMarkdownInDescription")).to_be_visible()
    shot(page, "security-hostile-schema")


# --- the next person at the same browser -----------------------------------------------------


def test_unfinished_uploads_are_the_signed_in_users_own(page, lab, live_server, tmp_path):
    """The upload page remembers unfinished uploads in localStorage; another user signing in
    on the same browser (same tenant, even) must neither see nor continue them. Parts go to
    storage without the CSRF header, and nothing kept names a URL or a token."""
    big = tmp_path / "patient-cohort.bin"
    big.write_bytes(os.urandom(12 * MiB))  # parts of 8 and 4 MiB
    _sign_in(page, lab, lab.member_email, "/upload")
    held, puts = [], []

    def hold_part_2(route):
        puts.append(route.request)
        if "part_number=2" in route.request.url:
            held.append(route)  # never answered: the page reloads with part 2 on its way
        else:
            route.continue_()

    page.route("**/storage/o/**", hold_part_2)
    page.get_by_test_id("files-input").set_input_files(big)
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function(
        "() => Object.keys(localStorage).filter(k => k.startsWith('mantle.transfer.uploads'))"
        ".some(k => Object.values(JSON.parse(localStorage.getItem(k)))"
        ".some(r => (r.done['patient-cohort.bin'] || []).includes(1)))"
    )
    assert puts and all("x-csrf-token" not in r.headers for r in puts)
    stored = page.evaluate("() => JSON.stringify(Object.entries(localStorage))")
    assert "http" not in stored and "X-Amz" not in stored and "mtk_" not in stored
    page.unroute("**/storage/o/**")
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" while uploading
    page.reload()
    expect(page.get_by_test_id("unfinished-uploads")).to_contain_text("patient-cohort.bin")

    # Someone else signs in on this browser: same tenant, another user.
    page.context.clear_cookies()
    sign_in(page, lab.url, live_server.admin_email, live_server.admin_password,
            quote(f"/t/{lab.slug}/upload", safe="/"))  # fmt: skip
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()
    expect(page.get_by_test_id("files-input")).to_be_attached()
    expect(page.get_by_test_id("unfinished-uploads")).to_have_count(0)
    page.get_by_test_id("files-input").set_input_files(big)
    expect(page.get_by_text("These files continue the unfinished upload")).to_have_count(0)
    shot(page, "security-upload-other-user")

    # Its owner, back, still finds it.
    page.context.clear_cookies()
    _sign_in(page, lab, lab.member_email, "/upload")
    expect(page.get_by_test_id("unfinished-uploads")).to_contain_text("patient-cohort.bin")


# --- crafted links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "filter=" + quote('[["and",'),  # not JSON
        "filter=" + quote(json.dumps(["and", [["and", [["p:nosuch", "eq", "x"]]]]])),
        "filter=" + quote(json.dumps(["and", [["and", [["p:x", "eq", "y" * 20_000]]]]])),
        "sort=" + quote("-properties.x;drop table datasets"),
        "cursor=" + quote("not-a-cursor"),
    ],
    ids=["malformed", "unknown-property", "huge", "bad-sort", "bad-cursor"],
)
def test_a_crafted_data_link_answers_in_words(page, lab, page_problems, query):
    page_problems.allow(r"status of (400|414|422)")  # the crafted query, refused on purpose
    _sign_in(page, lab, lab.member_email, f"/data?{query}")
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, f"security-data-link-{query.split('=')[0]}-{len(query)}")
    problem = page.locator(".alert-error, [role=alert]")
    rows = page.get_by_test_id("datasets-table").locator("tbody tr")
    nothing = page.get_by_text("No datasets match these filters")
    # The link's problem in words, or the table (or its empty state) for what could be read.
    expect(problem.or_(rows).or_(nothing).first).to_be_visible()
    if query.startswith("filter=%5B%5B%22and"):  # cut short: said, not passed off as all data
        expect(problem.first).to_contain_text("The filter in this link cannot be read")
    if problem.count():
        expect(problem.first).not_to_have_text("")
        assert "Traceback" not in problem.first.inner_text()


@pytest.mark.parametrize("path", ["/datasets/{ds}", "/data", "/runs/run-1", "/pipelines"])
def test_another_tenants_urls_show_not_found_never_data(page, lab, page_problems, path):
    page_problems.allow(r"status of 404")
    path = path.format(ds=lab.secret_dataset["short_id"])
    _sign_in(page, lab, lab.member_email, "/")
    page.goto(f"{lab.url}/t/{lab.other_slug}{path}")
    page.wait_for_load_state("networkidle")
    shot(page, f"security-other-tenant-{path.split('/')[1]}")
    expect(
        page.get_by_text(f'There is no tenant "{lab.other_slug}" you are a member of')
    ).to_be_visible()
    body = page.locator("body").inner_text()
    assert "TOP-SECRET" not in body and "their-first" not in body


def test_another_tenants_dataset_id_in_our_tenant_is_not_found(page, lab, page_problems):
    """Their dataset's id (a UUID: unique over all tenants) under our tenant is not found.
    (Not its short id: short ids are per tenant, and other tests of this module add datasets
    to ours, so DS-000002 may well be one of ours.)"""
    page_problems.allow(r"status of 404")
    _sign_in(page, lab, lab.member_email, f"/datasets/{lab.secret_dataset['id']}")
    expect(page.get_by_role("alert")).to_contain_text("not found")
    assert "TOP-SECRET" not in page.locator("body").inner_text()
    shot(page, "security-foreign-dataset-id")


def test_a_viewer_calling_mutating_endpoints_is_refused(page, lab, page_problems):
    page_problems.allow(r"status of 403")
    _sign_in(page, lab, lab.viewer_email, "/data")
    statuses = page.evaluate(
        """async (slug) => {
            const csrf = decodeURIComponent(document.cookie.split('; ')
                .find((c) => c.startsWith('mantle_csrf=')).split('=')[1]);
            const call = (method, path, body) => fetch(`/api/v1/tenants/${slug}${path}`, {
                method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                body: body && JSON.stringify(body)}).then((r) => r.status);
            return [
                await call('POST', '/datasets', {name: 'by-viewer', data_type: 'file'}),
                await call('POST', '/runs', {pipeline: 'innocent'}),
                await call('POST', '/runs/preview', {pipeline: 'innocent'}),
                await call('POST', '/tokens', {name: 'viewer-write', scope: 'write'}),
                await call('POST', '/invitations', {email: 'x@example.com', role: 'owner'}),
            ];
        }""",
        lab.slug,
    )
    # statuses[3]: a token of its own (allowed to every member; not checked here)
    assert statuses[:3] == [403, 403, 403] and statuses[4] == 403, statuses


def test_a_sign_in_form_on_another_site_signs_nobody_in(page, lab, page_problems):
    """Login CSRF: a page elsewhere posting its owner's credentials to our sign-in form."""
    page_problems.allow(r"status of 403")
    page.set_content(
        f"""<form method="post" action="{lab.url}/login">
        <input name="email" value="{lab.member_email}"><input name="password" value="{PASSWORD}">
        <input name="next" value="/t/{lab.slug}/upload"><button>go</button></form>"""
    )
    page.click("button")
    expect(page.get_by_text("another site")).to_be_visible()
    page.goto(f"{lab.url}/t/{lab.slug}/upload")
    expect(page).to_have_url(f"{lab.url}/login?next=/t/{lab.slug}/upload")


def test_the_invitation_token_goes_to_no_other_origin(page, lab):
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    response = page.goto(f"{lab.url}/invite?token=mit_probe-token-value")
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_test_id("invite")).to_be_visible()
    expect(page.get_by_role("link", name="sign in")).to_have_attribute(
        "href", "/login?next=%2Finvite%3Ftoken%3Dmit_probe-token-value"
    )
    origins = {urlparse(u).netloc for u in seen if not u.startswith("data:")}
    assert origins == {urlparse(lab.url).netloc}, seen
    links = page.locator("a[href]").evaluate_all("(as) => as.map((a) => a.href)")
    assert all(h.startswith(lab.url) for h in links), links
