"""The web app under attack, in a real browser against the shared live server: what a hostile
pipeline author, a crafted link, another tenant's ids, a viewer, or the next person at the
same browser can get out of it.

The module makes its own tenant (through the admin's token) with a member and a viewer, a
second tenant with data of its own, and a Nextflow pipeline whose schema picks hostile names
and descriptions."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote

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
