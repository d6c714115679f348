"""`POST runs/preview`: a launch request checked with nothing written (no run row, no run
directory, no number taken), showing the samplesheet, the resolved params and the inputs a
query matches; param problems listed for the form instead of refused."""

from __future__ import annotations

from sqlalchemy import func, select

from mantle.db.models import SqlRun


def _count_runs(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(SqlRun))


def test_preview_shows_the_samplesheet_and_params_and_writes_nothing(
    lab, executor, database, settings
):
    s1, s2 = lab.pair("S1"), lab.pair("S2")
    body = {
        "pipeline": "rnaseq",
        "inputs": {"datasets": [s1["short_id"], s2["id"]]},
        "params": {"genome": "GRCm39"},
    }
    shown = lab.ok("POST", "/runs/preview", json=body)
    assert shown["pipeline"] == "rnaseq" and shown["version"] == 1
    assert shown["environment"] == "local" and shown["executor"] == "local"
    assert [i["short_id"] for i in shown["inputs"]] == [s1["short_id"], s2["short_id"]]
    sheet = shown["samplesheet"]
    assert sheet["param"] == "input" and sheet["columns"] == ["sample", "fastq_1", "fastq_2"]
    assert sheet["rows"][0] == ["S1", "s3://lab-reads/runs/S1_R1.fastq.gz",
                                "s3://lab-reads/runs/S1_R2.fastq.gz"]  # fmt: skip
    assert sheet["csv"].splitlines()[0] == "sample,fastq_1,fastq_2"
    params = shown["params"]
    assert params["genome"] == "GRCm39" and params["min_reads"] == 10  # the default applied
    assert params["input"] == "{run_dir}/samplesheet.csv"
    assert params["outdir"] == "{run_dir}/outputs/"
    assert shown["problems"] == []
    # Nothing made: no run, no submit, and the next launch is still run-1.
    assert _count_runs(database) == 0 and executor.submits == []
    assert not any(settings.data_dir.rglob("samplesheet.csv"))
    assert lab.launch(inputs={"datasets": [s1["id"]]})["short_id"] == "run-1"


def test_preview_counts_what_a_query_matches(lab):
    for sample in ("Q1", "Q2", "Q3", "Other"):
        lab.pair(sample)
    body = {"pipeline": "rnaseq", "inputs": {"query": "type=fastq_pair,sample=[Q1,Q2,Q3]"}}
    shown = lab.ok("POST", "/runs/preview", json=body)
    assert sorted(i["name"] for i in shown["inputs"]) == ["Q1 reads", "Q2 reads", "Q3 reads"]
    assert len(shown["samplesheet"]["rows"]) == 3
    body["inputs"]["query"] = "type=fastq_pair,sample=none"
    nothing = lab.request("POST", "/runs/preview", json=body)
    assert nothing.status_code == 422 and "no dataset matches" in nothing.json()["error"]["message"]


def test_preview_lists_param_problems_instead_of_refusing(lab):
    s1 = lab.pair("S1")
    body = {"pipeline": "rnaseq", "inputs": {"datasets": [s1["id"]]},
            "params": {"min_reads": "many"}}  # fmt: skip
    shown = lab.ok("POST", "/runs/preview", json=body)
    assert len(shown["problems"]) == 1 and "min_reads" in shown["problems"][0]["message"]
    assert shown["samplesheet"]["rows"][0][0] == "S1"  # the samplesheet is shown all the same
    # The launch itself refuses the same body.
    assert lab.request("POST", "/runs", json=body).status_code == 422


def test_preview_refuses_what_a_launch_refuses(lab, factory, api):
    s1 = lab.pair("S1")
    unknown = lab.request("POST", "/runs/preview", json={"pipeline": "nope"})
    assert unknown.status_code == 404
    body = {"pipeline": "rnaseq", "environment": "prod", "inputs": {"datasets": [s1["id"]]}}
    env = lab.request("POST", "/runs/preview", json=body)
    assert env.status_code == 404
    missing = lab.request("POST", "/runs/preview", json={
        "pipeline": "rnaseq", "inputs": {"datasets": ["DS-999999"]}})  # fmt: skip
    assert missing.status_code == 404
    viewer = factory.member("acme", "vic@example.com", "viewer")
    body = {"pipeline": "rnaseq", "inputs": {"datasets": [s1["id"]]}}
    denied = lab.request("POST", "/runs/preview", json=body, as_=viewer)
    assert denied.status_code == 403


def test_preview_of_fastq_stats_with_the_real_pipelines(lab, services):
    from mantle.runs.pipeline_port import PlatformPipelines

    services.runs.pipelines = PlatformPipelines(services)
    s1 = lab.pair("S1")
    shown = lab.ok("POST", "/runs/preview", json={
        "pipeline": "fastq-stats", "inputs": {"datasets": [s1["id"]]},
        "params": {"max_reads": -1}})  # fmt: skip
    assert shown["engine"] == "script" and shown["samplesheet"] is None
    assert shown["inputs"][0]["data_type"] == "fastq_pair"
    assert [p["param"] for p in shown["problems"]] == ["max_reads"]
    good = lab.ok("POST", "/runs/preview", json={
        "pipeline": "fastq-stats", "inputs": {"datasets": [s1["id"]]}})  # fmt: skip
    assert good["problems"] == [] and good["params"] == {"max_reads": 0,
                                                          "title": "FASTQ statistics"}  # fmt: skip


def test_preview_never_reaches_another_tenants_pipelines_datasets_or_environments(
    lab, factory, api, database, services
):
    """The preview answers with names, samplesheet rows and file URIs: whatever it resolves
    must be the caller's own. Another tenant's ids answer as unknown ones do (404), and a query
    matches only the caller's datasets."""
    from mantle.runs.pipeline_port import PlatformPipelines
    from tests.runs.conftest import add_pipelines, make_lab

    services.runs.pipelines = PlatformPipelines(services)
    other = make_lab(factory, api, database, "beta-labs", "bob@example.com")
    add_pipelines(database, other.tenant_id)
    other.pair("B1")
    secret = other.pair("SECRET")  # DS-000002 there; acme has only DS-000001
    their_pipeline = other.ok("GET", "/pipelines/fastq-stats")["id"]
    mine = lab.pair("S1")
    for body in (
        {"pipeline": their_pipeline, "inputs": {"datasets": [mine["id"]]}},
        {"pipeline": "fastq-stats", "inputs": {"datasets": [secret["id"]]}},
        {"pipeline": "fastq-stats", "inputs": {"datasets": [secret["short_id"]]}},
    ):
        response = lab.request("POST", "/runs/preview", json=body)
        assert response.status_code == 404, (body, response.text)
        assert "SECRET" not in response.text and "beta-labs" not in response.text
    query = {"pipeline": "fastq-stats", "inputs": {"query": "type=fastq_pair,sample=SECRET"}}
    response = lab.request("POST", "/runs/preview", json=query)
    assert response.status_code == 422 and "SECRET reads" not in response.text
    # Bob's own preview of the same query finds his dataset: the query itself is fine.
    assert other.ok("POST", "/runs/preview", json=query)["inputs"][0]["name"] == "SECRET reads"
