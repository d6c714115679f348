"""A succeeded run's outputs become datasets exactly once, with lineage inputs -> run ->
outputs, even when the worker crashes half way and tries again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mantle.catalog.datasets import short_id
from mantle.db.models import SqlDataset, SqlPipelineVersion, SqlRun, SqlRunOutput
from mantle.errors import ConflictError
from mantle.executors.base import JobStatus
from mantle.pipelines.outputs import OutputGroup as Group
from mantle.pipelines.outputs import match_outputs
from mantle.rundir import InputDataset
from mantle.runs import outputs
from mantle.runs.outputs import run_access
from mantle.runs.states import RunStatus
from mantle.schemas.catalog import DatasetCreate, FileRef

PUBLISHED = ["star/s1.bam", "star/s2.bam", "multiqc/multiqc_report.html", "logs/pipeline.txt"]


def inputs(lab, run) -> list[InputDataset]:
    """Two FASTQ datasets of the run's tenant, as run.json lists them."""
    made = []
    with lab.db.session() as s:
        access = run_access(s, s.get(SqlRun, run.id))
        area = lab.catalog.locations.tenant_store(run.tenant_id)
        for sample in ("s1", "s2"):
            ds = lab.catalog.datasets.create(s, access, DatasetCreate(
                name=f"{sample} reads", data_type="file",
                files=[FileRef(uri=area.uri(f"uploads/{sample}.fq.gz"))]))  # fmt: skip
            made.append(InputDataset(id=str(ds.id), short_id=ds.short_id, name=ds.name,
                                     data_type="file"))  # fmt: skip
    return made


def succeed(lab, run, paths=PUBLISHED):
    given = inputs(lab, run)
    lab.finish_outputs(run, paths, inputs=given)
    lab.executor().set(run.external_id, JobStatus.succeeded, "Essential container", 0)
    return given


def datasets_of(lab, run) -> list[SqlDataset]:
    with lab.db.session() as s:
        ids = s.scalars(select(SqlRunOutput.dataset_id).where(
            SqlRunOutput.run_id == run.id, SqlRunOutput.dataset_id.is_not(None))).all()  # fmt: skip
        return s.scalars(select(SqlDataset).where(SqlDataset.id.in_(ids))
                         .order_by(SqlDataset.number)).all()  # fmt: skip


def count_datasets(lab, origin="pipeline_run") -> int:
    with lab.db.session() as s:
        return s.scalar(select(func.count()).select_from(SqlDataset).where(
            SqlDataset.origin == origin))  # fmt: skip


def test_outputs_become_datasets_with_lineage(lab):
    run = lab.run(status=RunStatus.running)
    given = succeed(lab, run)
    assert lab.monitor().cycle().moved == {"SUCCEEDED": 1}
    row = lab.get(run)
    assert (row.status, row.outputs_state, row.exit_code) == ("SUCCEEDED", "done", 0)
    made = datasets_of(lab, run)
    assert [(d.name, d.properties) for d in made] == [
        ("s1 alignments", {"sample": "s1"}),
        ("s2 alignments", {"sample": "s2"}),
        (f"{run.name} multiqc_report", {}),
    ]
    store = lab.run_store(None, None, run)
    assert made[0].files[0]["uri"] == store.uri("outputs/star/s1.bam")
    assert made[0].files[0]["storage"] == "stored" and made[0].files[0]["name"] == "star/s1.bam"
    with lab.db.session() as s:
        listed = dict(s.execute(select(SqlRunOutput.path, SqlRunOutput.dataset_id).where(
            SqlRunOutput.run_id == run.id)).all())  # fmt: skip
        assert set(listed) == set(PUBLISHED) and listed["logs/pipeline.txt"] is None
        access = run_access(s, s.get(SqlRun, run.id))
        activity = lab.catalog.lineage.get_activity(s, access, row.activity_id)
        graph = lab.catalog.lineage.graph(s, access, given[0].id, direction="downstream")
    assert activity.kind == "pipeline_run"
    assert activity.inputs == [g.short_id for g in given]
    assert sorted(activity.outputs) == sorted(short_id(d.number) for d in made)
    assert activity.details["run_id"] == str(run.id) and activity.details["pipeline"] == "rnaseq"
    assert activity.details["commit"] == "c0ffee" and activity.details["version"] == 1
    assert {e.source for e in graph.edges} >= {given[0].short_id, str(row.activity_id)}
    assert {e.target for e in graph.edges} >= {short_id(d.number) for d in made}


def test_a_crash_half_way_registers_nothing_and_the_retry_registers_once(lab, monkeypatch):
    run = lab.run(status=RunStatus.running)
    succeed(lab, run)
    real_create = lab.catalog.datasets.create
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(lab.catalog.datasets, "create", crash_on_second)
    monitor = lab.monitor()
    stats = monitor.cycle()
    assert stats.run_errors == 1 and not stats.moved
    row = lab.get(run)
    assert (row.status, row.outputs_state, row.monitor_owner) == ("RUNNING", "pending", None)
    assert count_datasets(lab) == 0 and datasets_of(lab, run) == []
    monkeypatch.setattr(lab.catalog.datasets, "create", real_create)
    lab.make_due(run)
    assert lab.monitor("restarted").cycle().moved == {"SUCCEEDED": 1}
    assert count_datasets(lab) == 3 and len(datasets_of(lab, run)) == 3
    lab.make_due(run)  # a finished run is never claimed again
    assert lab.monitor().cycle().claimed == 0 and count_datasets(lab) == 3


def test_a_second_ingest_of_the_same_run_cannot_commit(lab):
    run = lab.run(status=RunStatus.running)
    succeed(lab, run)
    manifest = lab.finish_outputs(run, PUBLISHED)
    store = lab.run_store(None, None, run)
    # A worker whose lease expired read the run before another worker, which took the run
    # over, committed its ingest; its own ingest then cannot commit.
    with pytest.raises(ConflictError), lab.db.session() as late:
        stale = late.get(SqlRun, run.id)
        assert stale.outputs_state == ""
        with lab.db.session() as first:
            outputs.ingest(first, lab.catalog, first.get(SqlRun, run.id), manifest, store,
                           match=match_outputs)  # fmt: skip
        outputs.ingest(late, lab.catalog, stale, manifest, store, match=match_outputs)
    assert count_datasets(lab) == 3
    with lab.db.session() as again:  # and once done, an ingest does nothing
        assert outputs.ingest(again, lab.catalog, again.get(SqlRun, run.id), manifest, store,
                              match=match_outputs).datasets == []  # fmt: skip
    assert count_datasets(lab) == 3


def test_a_group_the_catalog_refuses_is_reported_not_fatal(lab):
    run = lab.run(status=RunStatus.running)
    with lab.db.session() as s:  # a rule naming a type the tenant does not have
        version = s.get(SqlPipelineVersion, run.pipeline_version_id)
        version.output_rules = [*version.output_rules,
                                {"glob": "logs/*.txt", "data_type": "no_such_type"}]  # fmt: skip
    succeed(lab, run)
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "SUCCEEDED" and len(datasets_of(lab, run)) == 3
    assert row.status_reason.startswith("1 output group(s) made no dataset: logs/pipeline.txt:")
    assert "no_such_type" in row.status_reason


def test_success_without_a_manifest_fails_the_run(lab):
    run = lab.run(status=RunStatus.running)
    lab.executor().set(run.external_id, JobStatus.succeeded, "", 0)
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "FAILED" and row.outputs_state == ""
    assert "without writing outputs.json" in row.status_reason


class _WriteBucketStore:
    """A run directory in an environment's write bucket, as placement.run_store gives it."""

    def __init__(self, run_id) -> None:
        self.root = f"s3://lab-results/mantle/runs/{run_id}/"

    def uri(self, key: str) -> str:
        return self.root + key


def test_outputs_in_the_write_bucket_are_referenced_in_place(lab):
    from mantle.catalog.read_buckets import ReadBuckets
    from mantle.db.models import SqlEnvironment

    run = lab.run(status=RunStatus.running)
    with lab.db.session() as s:
        s.add(SqlEnvironment(
            tenant_id=run.tenant_id, name="aws", region="eu-west-1", account_id="123456789012",
            credentials_kind="role", write_bucket="lab-results", write_prefix="mantle",
            read_buckets=[], head_queue="h", compute_queue="c", head_image="i", head_vcpus=1,
            head_memory_mib=2048, cli_path="/miniconda/bin/aws", log_group="/aws/batch/job",
        ))  # fmt: skip
    lab.catalog.datasets.tenant_read_roots = ReadBuckets(None).read_roots
    manifest = lab.finish_outputs(run, ["star/s1.bam"])
    with lab.db.session() as s:
        done = outputs.ingest(s, lab.catalog, s.get(SqlRun, run.id), manifest,
                              _WriteBucketStore(run.id), match=match_outputs)  # fmt: skip
    assert done.problems == [] and len(done.datasets) == 1
    (made,) = datasets_of(lab, run)
    assert made.files[0]["uri"] == f"s3://lab-results/mantle/runs/{run.id}/outputs/star/s1.bam"
    assert made.files[0]["storage"] == "referenced"


def test_dataset_names():
    from mantle.rundir import OutputFile
    from mantle.runs.outputs import dataset_name

    bam = OutputFile(path="star/s1.sorted.bam", size=1, checksum="")
    rules = [{"glob": "star/*.bam", "data_type": "bam", "name": "{sample} reads"},
             {"glob": "star/*.bam", "data_type": "bam"},
             {"glob": "star/*.bam", "data_type": "bam", "group_by": "{sample}"}]  # fmt: skip
    named = Group("bam", "s1 reads", {}, [bam], rule=0)
    plain = Group("bam", "s1.sorted.bam", {}, [bam], rule=1)
    grouped = Group("bam", "s1", {}, [bam], rule=2)
    assert dataset_name("rnaseq #7", named, rules) == "s1 reads"
    assert dataset_name("rnaseq #7", plain, rules) == "rnaseq #7 s1"
    assert dataset_name("rnaseq #7", grouped, rules) == "rnaseq #7 s1"
