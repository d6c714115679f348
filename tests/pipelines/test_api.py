"""The pipeline registry through the REST API (SQLite and PostgreSQL): registration resolves
commits, versions are immutable, the built-in pipeline is there, roles and tenants hold."""

from __future__ import annotations

import pytest

from tests.pipelines.conftest import MAIN_NF, Repo

SCRIPT_SPEC = """
name: count-lines
command: ["wc", "-l"]
inputs: [{name: files, data_types: [file]}]
params:
  type: object
  properties: {min: {type: integer, minimum: 0}}
outputs: [{glob: "*.txt", data_type: table}]
"""


@pytest.fixture
def alice(factory):
    return factory.member("acme", "alice@example.com", "member")


def call(api, member, method, path, status, **kwargs):
    response = api.request(
        method, f"/api/v1/tenants/{member.tenant}/pipelines{path}", headers=member.headers, **kwargs
    )
    assert response.status_code == status, response.text
    return response.json()


def test_register_resolves_the_commit_and_adds_versions(api, alice, rnaseq_repo):
    tagged = rnaseq_repo.commit({"README.md": "docs"}, "docs")
    rnaseq_repo.tag("1.1.0")
    body = {"repository": rnaseq_repo.url, "revision": "1.1.0", "name": "rnaseq"}
    first = call(api, alice, "POST", "", 201, json=body)
    assert (first["pipeline"], first["version"], first["commit"]) == ("rnaseq", 1, tagged)
    assert first["engine"] == "nextflow" and first["samplesheet_param"] == "input"
    assert first["output_rules"][0]["glob"] == "**/multiqc_report.html"
    assert call(api, alice, "POST", "", 201, json=body)["version"] == 1  # nothing changed
    head = rnaseq_repo.commit({"main.nf": MAIN_NF + "// 2\n"})
    second = call(api, alice, "POST", "", 201, json={**body, "revision": "main"})
    assert (second["version"], second["commit"], second["revision"]) == (2, head, "main")
    listed = {p["name"]: p for p in call(api, alice, "GET", "", 200)}
    assert listed["rnaseq"]["latest_version"] == 2 and listed["rnaseq"]["commit"] == head
    assert listed["fastq-stats"]["builtin"] is True
    shown = call(api, alice, "GET", "/rnaseq", 200)
    assert call(api, alice, "GET", f"/{shown['id']}", 200)["name"] == "rnaseq"
    versions = call(api, alice, "GET", "/rnaseq/versions", 200)
    assert [(v["version"], v["commit"]) for v in versions] == [(1, tagged), (2, head)]
    assert call(api, alice, "GET", "/rnaseq/versions/1", 200)["commit"] == tagged
    call(api, alice, "GET", "/rnaseq/versions/9", 404)


def test_the_schema_is_the_launch_form(api, alice, rnaseq_repo):
    call(api, alice, "POST", "", 201, json={"repository": rnaseq_repo.url, "revision": "1.0.0"})
    form = call(api, alice, "GET", "/rnaseq/schema", 200)  # name defaults to the repo's
    assert form["samplesheet_param"] == "input"
    assert [c["name"] for c in form["samplesheet_columns"]] == [
        "sample", "fastq_1", "fastq_2", "strandedness",
    ]  # fmt: skip
    assert form["groups"][0]["params"][0]["name"] == "input"
    assert call(api, alice, "GET", "/rnaseq/schema?version=1", 200)["version"] == 1


def test_nf_schema_2_pipeline_registers_and_a_name_keeps_its_repository(
    api, alice, nfschema_repo, rnaseq_repo
):
    url = "file://" + nfschema_repo.url
    created = call(api, alice, "POST", "", 201, json={"repository": url, "revision": "main"})
    assert created["pipeline"] == "demo"
    form = call(api, alice, "GET", "/demo/schema", 200)
    assert {c["name"] for c in form["samplesheet_columns"]} >= {"sample", "replicate"}
    error = call(api, alice, "POST", "", 409, json={"repository": rnaseq_repo.url, "name": "demo"})
    assert "under another name" in error["error"]["message"]


def test_builtin_fastq_stats_is_there_for_every_tenant(api, factory, alice):
    other = factory.member("beta", "bob@example.com", "viewer")
    for member in (alice, other):
        form = call(api, member, "GET", "/fastq-stats/schema", 200)
        assert form["inputs"][0]["data_types"] == ["fastq", "fastq_pair", "file"]
        assert form["groups"][0]["params"][0]["name"] == "max_reads"
        version = call(api, member, "GET", "/fastq-stats/versions/1", 200)
        assert version["engine"] == "script" and version["script"]["command"][0] == "{python}"
    call(api, alice, "POST", "", 409, json={"repository": "/x", "name": "fastq-stats"})


def test_script_pipeline_from_git(api, alice, repo_dir):
    repo = Repo(repo_dir / "tool")
    commit = repo.commit({"mantle.yml": SCRIPT_SPEC})
    created = call(api, alice, "POST", "", 201, json={"repository": repo.url, "name": "count"})
    assert (created["engine"], created["commit"]) == ("script", commit)
    assert created["script"]["command"] == ["wc", "-l"]
    assert created["output_rules"] == [{"glob": "*.txt", "data_type": "table", "properties": {}}]


BAD_REGISTRATIONS = [
    ({"revision": "v9"}, "'v9' is not a tag, branch or commit"),
    ({"repository": "ext::sh -c id"}, "not allowed"),
    ({"repository": "--upload-pack=id"}, "cannot start with '-'"),
    ({"repository": "/nonexistent/repo"}, "does not exist"),
    ({"output_rules": [{"glob": "*.bam", "data_type": "bam", "pattern": "(a)\\1"}]}, "RE2"),
    ({"name": "no spaces allowed"}, "name"),
]


def test_bad_registrations_are_422_with_a_reason(api, alice, rnaseq_repo):
    for body, message in BAD_REGISTRATIONS:
        request = {"repository": rnaseq_repo.url, "revision": "1.0.0", **body}
        error = call(api, alice, "POST", "", 422, json=request)["error"]
        assert message in str(error), body


def test_a_repository_without_a_pipeline_is_refused(api, alice, repo_dir, tmp_path):
    repo = Repo(repo_dir / "empty")
    repo.commit({"README.md": "nothing"})
    error = call(api, alice, "POST", "", 422, json={"repository": repo.url})["error"]
    assert "no main.nf" in error["message"]
    # The server's own folders (data_dir: the database, other tenants' cached clones) are
    # never a repository, even when they hold one.
    inside = Repo(tmp_path / "in-data-dir")
    inside.commit({"main.nf": MAIN_NF})
    for url in (inside.url, "file://" + inside.url, str(tmp_path / "git-cache" / "x.git")):
        error = call(api, alice, "POST", "", 422, json={"repository": url, "name": "x"})["error"]
        assert "belongs to the Mantle server" in error["message"]


def test_viewers_read_and_other_tenants_see_nothing(api, factory, alice, rnaseq_repo):
    mine = call(api, alice, "POST", "", 201, json={"repository": rnaseq_repo.url})
    viewer = factory.member("acme", "victor@example.com", "viewer")
    assert call(api, viewer, "GET", "/rnaseq", 200)["name"] == "rnaseq"
    call(api, viewer, "POST", "", 403, json={"repository": rnaseq_repo.url, "name": "mine"})
    shown = call(api, alice, "GET", "/rnaseq", 200)
    assert mine["pipeline"] == shown["name"]
    eve = factory.member("evil", "eve@example.com", "owner")
    for path in ("/rnaseq", f"/{shown['id']}", "/rnaseq/versions", "/rnaseq/schema"):
        call(api, eve, "GET", path, 404)
    assert "rnaseq" not in {p["name"] for p in call(api, eve, "GET", "", 200)}
