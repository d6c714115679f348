"""Imports from read buckets on moto: browse, preview, run as a background job, no duplicates
on re-run, resume after a crash, and the limits of what may be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from mantle.catalog import imports
from mantle.db.models import SqlImportObject, SqlJob
from tests.transfer.conftest import make_environment

PAIR = {
    "read1": r"(?P<sample>[^/]+)_R1_001\.fastq\.gz$",
    "read2": r"(?P<sample>[^/]+)_R2_001\.fastq\.gz$",
}


@pytest.fixture
def owner(factory):
    return factory.member("acme", "ann@example.com", "owner")


@pytest.fixture
def bucket(api, owner, raw_bucket, moto_server):
    s3 = moto_server.client("s3")
    for i in range(1, 8):
        for read in ("R1", "R2"):
            s3.put_object(
                Bucket=raw_bucket,
                Key=f"runs/2026/S{i}_{read}_001.fastq.gz",
                Body=f"{i}{read}".encode(),
            )
    s3.put_object(Bucket=raw_bucket, Key="runs/2026/S9_R1_001.fastq.gz", Body=b"lonely")
    s3.put_object(Bucket=raw_bucket, Key="runs/2026/README.md", Body=b"notes")
    s3.put_object(Bucket=raw_bucket, Key="private/secret.txt", Body=b"no")
    make_environment(api, owner, [{"bucket": raw_bucket, "prefix": "runs/"}])
    return raw_bucket


def spec(bucket, **extra):
    return {
        "bucket": bucket,
        "prefix": "runs/2026/",
        "data_type": "fastq_pair",
        "patterns": PAIR,
        "key": "sample",
        **extra,
    }


@pytest.fixture
def worker(app):
    return app.state.services.worker(app.state.db)


def test_browse_read_buckets(api, owner, bucket):
    buckets = api.get("/api/v1/tenants/acme/read-buckets", headers=owner.headers).json()
    assert buckets == [{"bucket": bucket, "prefix": "runs/", "uri": f"s3://{bucket}/runs/"}]
    top = api.get(
        f"/api/v1/tenants/acme/read-buckets/{bucket}/objects", headers=owner.headers
    ).json()
    assert top["prefix"] == "runs/" and top["folders"] == ["runs/2026/"]
    inner = api.get(
        f"/api/v1/tenants/acme/read-buckets/{bucket}/objects",
        params={"prefix": "runs/2026/"},
        headers=owner.headers,
    ).json()
    assert len(inner["objects"]) == 16
    assert {"key", "size", "last_modified", "etag"} <= set(inner["objects"][0])


def test_browse_stays_inside_the_configured_buckets(api, owner, bucket, moto_server):
    outside = api.get(
        f"/api/v1/tenants/acme/read-buckets/{bucket}/objects",
        params={"prefix": "private/"},
        headers=owner.headers,
    )
    assert outside.status_code == 403
    other = api.get(
        "/api/v1/tenants/acme/read-buckets/someone-elses/objects", headers=owner.headers
    )
    assert other.status_code == 404
    sneaky = api.get(
        f"/api/v1/tenants/acme/read-buckets/{bucket}/objects",
        params={"prefix": "runs/../private/"},
        headers=owner.headers,
    )
    assert sneaky.status_code == 422


def test_preview_shows_pairs_and_problems(api, owner, bucket):
    response = api.post(
        "/api/v1/tenants/acme/imports/preview", json=spec(bucket), headers=owner.headers
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["objects_scanned"] == 16 and preview["objects_matched"] == 15
    by_name = {d["name"]: d for d in preview["datasets"]}
    assert len(by_name) == 8
    assert by_name["S1"]["properties"]["read1"] == f"s3://{bucket}/runs/2026/S1_R1_001.fastq.gz"
    assert by_name["S9"]["problems"] == ["no object for read2"]
    assert preview["unmatched"] == ["runs/2026/README.md"]  # what the patterns miss
    assert (
        api.get("/api/v1/tenants/acme/datasets?count=true", headers=owner.headers).json()["count"]
        == 0
    )


def test_bad_specs_are_refused_up_front(api, owner, bucket):
    cases = [
        (spec(bucket, patterns={"read1": "(unclosed"}), 422, "regular expression"),
        (spec(bucket, patterns={"sample": "(?P<sample>x)"}), 422, "not a file property"),
        (spec(bucket, patterns={"read1": "no-group"}), 422, "named group"),
        (spec(bucket, patterns={**PAIR, "read2": r"(?P<sample>.+)(?=_R2)"}), 422, "'read2'"),
        (spec(bucket, patterns={**PAIR, "read2": r"(?P<sample>.)\1"}), 422, "RE2"),
        (spec(bucket, name="{sample:>30000000}"), 422, "'{sample:>30000000}' is not allowed"),
        (spec(bucket, name="{sample!r}"), 422, "'{sample!r}' is not allowed"),
        (spec(bucket, name="{sample}-{lane}"), 422, "{lane} is not a named group"),
        (spec("a..b"), 422, "two adjacent dots"),
        (spec(bucket, prefix="private/"), 403, "may be read"),
        (spec(bucket, data_type="nope"), 404, "data type"),
    ]
    for body, status, text in cases:
        for path in ("imports", "imports/preview"):
            response = api.post(f"/api/v1/tenants/acme/{path}", json=body, headers=owner.headers)
            assert response.status_code == status, (body, response.text)
            assert text in response.json()["error"]["message"]
    assert api.get("/api/v1/tenants/acme/imports", headers=owner.headers).json() == []


@pytest.mark.timeout(60)
def test_catastrophic_pattern_cannot_freeze_an_import(api, owner, bucket, worker, moto_server):
    crafted = "a" * 1000 + "!"  # hours for a backtracking engine with (a+)+$
    s3 = moto_server.client("s3")
    s3.put_object(Bucket=bucket, Key=f"runs/2026/{crafted}", Body=b"x")
    s3.put_object(Bucket=bucket, Key="runs/2026/aaaa", Body=b"x")
    body = spec(bucket, data_type="file", patterns={"files": r"(?P<sample>(a+)+$)"})
    preview = api.post("/api/v1/tenants/acme/imports/preview", json=body, headers=owner.headers)
    assert [d["name"] for d in preview.json()["datasets"]] == ["aaaa"]
    done = run_import(api, owner, worker, body)
    assert done["status"] == "succeeded", done
    assert done["progress"]["objects_scanned"] == 18
    assert done["progress"]["datasets_created"] == 1


def run_import(api, owner, worker, body) -> dict:
    started = api.post("/api/v1/tenants/acme/imports", json=body, headers=owner.headers)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    assert worker.run_once()
    return api.get(
        f"/api/v1/tenants/acme/imports/{started.json()['id']}", headers=owner.headers
    ).json()


def test_import_creates_datasets_once(api, owner, bucket, worker):
    done = run_import(api, owner, worker, spec(bucket, tags=["run-2026"]))
    assert done["status"] == "succeeded", done
    progress = done["progress"]
    assert progress["datasets_created"] == 7 and progress["groups_skipped"] == 1
    assert progress["problems"] == ["S9: no object for read2"]
    page = api.get(
        "/api/v1/tenants/acme/datasets?type=fastq_pair&limit=50", headers=owner.headers
    ).json()
    assert len(page["items"]) == 7
    first = next(d for d in page["items"] if d["name"] == "S1")
    assert first["origin"] == "import" and first["tags"] == ["run-2026"]
    assert {f["storage"] for f in first["files"]} == {"referenced"}
    assert first["properties"]["sample"] == "S1"

    again = run_import(api, owner, worker, spec(bucket, tags=["run-2026"]))
    assert again["progress"]["datasets_created"] == 0
    assert again["progress"]["datasets_existing"] == 7
    count = api.get("/api/v1/tenants/acme/datasets?count=true", headers=owner.headers).json()
    assert count["count"] == 7


def test_a_job_queued_under_older_rules_fails_with_the_reason(api, owner, bucket, worker, app):
    started = api.post("/api/v1/tenants/acme/imports", json=spec(bucket), headers=owner.headers)
    job_id = started.json()["id"]
    unsafe = spec(bucket, name="{sample:>30000000}")  # accepted before templates were checked
    with app.state.db.session() as session:
        session.execute(update(SqlJob).values(payload={"spec": unsafe}))
    assert worker.run_once()
    job = api.get(f"/api/v1/tenants/acme/imports/{job_id}", headers=owner.headers).json()
    assert job["status"] == "failed" and job["spec"]["name"] == "{sample:>30000000}"
    assert "no longer accepted: name" in job["error"] and "is not allowed" in job["error"]
    assert api.get("/api/v1/tenants/acme/imports", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("page_size", [1, 3, 5])
def test_pairs_split_across_listing_pages(api, owner, bucket, worker, app, monkeypatch, page_size):
    """Mates listed on different pages are staged until complete; pairs within a page are
    created straight away; both give the same datasets and nothing stays staged."""
    monkeypatch.setattr(imports, "PAGE_SIZE", page_size)
    done = run_import(api, owner, worker, spec(bucket))
    assert done["status"] == "succeeded", done
    assert done["progress"]["datasets_created"] == 7
    assert done["progress"]["problems"] == ["S9: no object for read2"]
    items = api.get(
        "/api/v1/tenants/acme/datasets?type=fastq_pair&limit=50", headers=owner.headers
    ).json()["items"]
    for item in items:
        sample = item["properties"]["sample"]
        assert item["properties"]["read1"].endswith(f"/{sample}_R1_001.fastq.gz")
        assert item["properties"]["read2"].endswith(f"/{sample}_R2_001.fastq.gz")
        assert len(item["files"]) == 2
    assert sorted(i["name"] for i in items) == [f"S{i}" for i in range(1, 8)]
    with app.state.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SqlImportObject)) == 0


def test_import_resumes_after_a_crash(api, owner, bucket, worker, app, monkeypatch):
    monkeypatch.setattr(imports, "PAGE_SIZE", 4)
    started = api.post("/api/v1/tenants/acme/imports", json=spec(bucket), headers=owner.headers)
    job_id = started.json()["id"]

    class Crash(BaseException):
        pass

    original = imports.ImportRun._report
    calls = []

    def crash_on_second_page(self, phase, cursor=None):
        calls.append(phase)
        original(self, phase, cursor)
        if len(calls) == 2:
            raise Crash()

    monkeypatch.setattr(imports.ImportRun, "_report", crash_on_second_page)
    with pytest.raises(Crash):
        worker.run_once()
    midway = api.get(f"/api/v1/tenants/acme/imports/{job_id}", headers=owner.headers).json()
    assert midway["status"] == "running" and midway["progress"]["objects_scanned"] == 8

    monkeypatch.setattr(imports.ImportRun, "_report", original)
    with app.state.db.session() as s:  # the crashed worker's lease runs out
        s.execute(update(SqlJob).values(lease_expires_at=datetime.now(UTC) - timedelta(1)))
    other = app.state.services.worker(app.state.db)
    assert other.run_once()
    done = api.get(f"/api/v1/tenants/acme/imports/{job_id}", headers=owner.headers).json()
    assert done["status"] == "succeeded"
    assert done["progress"]["objects_scanned"] == 16  # not 24: it resumed, not restarted
    count = api.get("/api/v1/tenants/acme/datasets?count=true", headers=owner.headers).json()
    assert count["count"] == 7


def test_cancelled_import_stops(api, owner, bucket, worker):
    started = api.post("/api/v1/tenants/acme/imports", json=spec(bucket), headers=owner.headers)
    job_id = started.json()["id"]
    cancelled = api.post(f"/api/v1/tenants/acme/imports/{job_id}/cancel", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert not worker.run_once()
    again = api.post(f"/api/v1/tenants/acme/imports/{job_id}/cancel", headers=owner.headers)
    assert again.status_code == 409
