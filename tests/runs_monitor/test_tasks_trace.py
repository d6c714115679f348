"""Trace rows and weblog events into the task table: Nextflow's formats, the merge rules
(the trace wins, status never goes backwards), and tenants kept apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mantle.db.models import SqlRunTask
from mantle.rundir import parse_trace
from mantle.runs import tasks

# A trace as Nextflow writes it with `trace.fields` adding process, tag, workdir, attempt.
TRACE = (
    "task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tduration\trealtime\t%cpu\tpeak_rss"
    "\tpeak_vmem\trchar\twchar\tprocess\ttag\tattempt\tstart\tcomplete\tworkdir\n"
    "1\t4e/3f1a2b\t6f2c9a1e-1b2c-4d5e-8f90-0123456789ab\tFASTQC (sample1)\tCOMPLETED\t0"
    "\t2026-12-01 13:00:00.123\t1m 2s\t58.3s\t98.5%\t12.3 MB\t1 GB\t1.1 MB\t512 KB\tFASTQC"
    "\tsample1\t1\t2026-12-01 13:00:03.000\t2026-12-01 13:01:02.123\ts3://w/work/4e/3f1a2b\n"
    "2\tab/cd1234\t7a7a7a7a-0000-4000-8000-000000000002\tSTAR_ALIGN (sample1)\tFAILED\t137"
    "\t2026-12-01 13:01:05.000\t1h 2m 3s\t123ms\t-\t-\t-\t-\t-\tSTAR_ALIGN\tsample1\t2\t-\t-"
    "\t-\n"
    "3\tff/000001\t-\tMULTIQC\tCACHED\t0\t2026-12-01 13:02:00.000\t1.5s\t1d 2h\t150.0%\t100 B"
    "\t-\t-\t-\tMULTIQC\t-\t1\t-\t-\t-\n"
    "4\t12/34"  # being written
)


def test_values_in_nextflow_formats_are_parsed():
    assert tasks.parse_duration("1m 2s") == 62_000
    assert tasks.parse_duration("123ms") == 123
    assert tasks.parse_duration("1.5s") == 1_500
    assert tasks.parse_duration("1h 2m 3s") == 3_723_000
    assert tasks.parse_duration("1d 2h") == 93_600_000
    assert tasks.parse_duration("-") is None and tasks.parse_duration("soon") is None
    assert tasks.parse_percent("98.5%") == 98.5 and tasks.parse_percent("-") is None
    assert tasks.parse_size("12.3 MB") == round(12.3 * 1024**2)
    assert tasks.parse_size("1 GB") == 1024**3 and tasks.parse_size("100 B") == 100
    assert tasks.parse_size("512 KB") == 512 * 1024 and tasks.parse_size("-") is None
    # Trace times carry no zone; they are read as UTC (see the module docstring).
    assert tasks.parse_time("2026-12-01 13:00:00.123") == datetime(
        2026, 12, 1, 13, 0, 0, 123000, tzinfo=UTC
    )
    assert tasks.parse_time("-") is None
    assert tasks.split_name("FASTQC (sample1)") == ("FASTQC", "sample1")
    assert tasks.split_name("MULTIQC") == ("MULTIQC", "")


def test_trace_rows_become_tasks(lab):
    run = lab.run()
    rows = parse_trace(TRACE)
    assert len(rows) == 3  # the half-written line is skipped
    with lab.db.session() as s:
        count = tasks.upsert_tasks(
            s, run.id, run.tenant_id, [tasks.from_trace_row(r) for r in rows], authoritative=True
        )
    assert count == 3
    by_id = _tasks(lab, run)
    fastqc = by_id[1]
    assert (fastqc.process, fastqc.tag, fastqc.status, fastqc.exit_code) == (
        "FASTQC", "sample1", "COMPLETED", 0)  # fmt: skip
    assert fastqc.native_id == "6f2c9a1e-1b2c-4d5e-8f90-0123456789ab"  # the Batch job id
    assert fastqc.hash == "4e/3f1a2b" and fastqc.workdir == "s3://w/work/4e/3f1a2b"
    assert fastqc.duration_ms == 62_000 and fastqc.realtime_ms == 58_300
    assert fastqc.cpu_percent == 98.5 and fastqc.peak_rss == round(12.3 * 1024**2)
    assert _utc(fastqc.submitted_at) == datetime(2026, 12, 1, 13, 0, 0, 123000, tzinfo=UTC)
    assert _utc(fastqc.completed_at) == datetime(2026, 12, 1, 13, 1, 2, 123000, tzinfo=UTC)
    star = by_id[2]
    assert (star.status, star.exit_code, star.attempt, star.cpu_percent) == ("FAILED", 137, 2, None)
    assert star.native_id == "7a7a7a7a-0000-4000-8000-000000000002" and star.started_at is None
    assert (by_id[3].process, by_id[3].tag, by_id[3].status) == ("MULTIQC", "", "CACHED")


def event(kind: str, task_id: int = 1, status: str = "RUNNING", **trace) -> dict:
    return {
        "runName": "happy_turing", "runId": "5a1b-session", "event": kind,
        "utcTime": "2026-12-01T13:00:04Z",
        "trace": {"task_id": task_id, "status": status, "hash": "4e/3f1a2b",
                  "name": "FASTQC (sample1)", "process": "FASTQC", "tag": "sample1",
                  "exit": 2147483647, "submit": 1796130000123, "start": 1796130003000,
                  "complete": 0, "native_id": "6f2c9a1e-batch", "workdir": "s3://w/work/4e/3f1a2b",
                  **trace},
    }  # fmt: skip


def test_events_fill_in_and_never_move_a_task_back(lab):
    run = lab.run()
    with lab.db.session() as s:
        tasks.upsert_tasks(s, run.id, run.tenant_id, [tasks.from_event(event(
            "process_submitted", status="SUBMITTED", start=0))], authoritative=False)  # fmt: skip
    submitted = _tasks(lab, run)[1]
    assert submitted.status == "SUBMITTED" and submitted.exit_code is None
    assert submitted.started_at is None
    assert _utc(submitted.submitted_at) == datetime.fromtimestamp(1796130000.123, UTC)
    completed = event(
        "process_completed",
        status="COMPLETED",
        exit=0,
        complete=1796130062123,
        duration=62000,
        realtime=58300,
        peak_rss=12897484,
        **{"%cpu": 98.5},
    )
    late_started = event("process_started", status="RUNNING")
    with lab.db.session() as s:
        for e in (completed, late_started):  # the started event arrives last
            tasks.upsert_tasks(s, run.id, run.tenant_id, [tasks.from_event(e)], authoritative=False)
    task = _tasks(lab, run)[1]
    assert (task.status, task.exit_code, task.duration_ms, task.peak_rss) == (
        "COMPLETED", 0, 62000, 12897484)  # fmt: skip
    assert task.cpu_percent == 98.5 and task.native_id == "6f2c9a1e-batch"


def test_the_trace_wins_over_an_event(lab):
    run = lab.run()
    completed = event("process_completed", status="COMPLETED", exit=0, duration=1)
    with lab.db.session() as s:
        tasks.upsert_tasks(s, run.id, run.tenant_id, [tasks.from_event(completed)],
                           authoritative=False)  # fmt: skip
        rows = [tasks.from_trace_row(r) for r in parse_trace(TRACE)]
        tasks.upsert_tasks(s, run.id, run.tenant_id, rows, authoritative=True)
        # An event after the trace row changes nothing the trace said.
        tasks.upsert_tasks(s, run.id, run.tenant_id, [tasks.from_event(completed)],
                           authoritative=False)  # fmt: skip
    task = _tasks(lab, run)[1]
    assert task.duration_ms == 62_000 and task.native_id == "6f2c9a1e-1b2c-4d5e-8f90-0123456789ab"


def test_tasks_of_two_tenants_stay_apart(lab):
    ours, theirs = lab.run("lab"), lab.run("other")
    with lab.db.session() as s:
        for run in (ours, theirs):
            tasks.upsert_tasks(s, run.id, run.tenant_id, [tasks.from_event(event(
                "process_started"))], authoritative=False)  # fmt: skip
        rows = s.scalars(select(SqlRunTask)).all()
    assert {(r.run_id, r.tenant_id) for r in rows} == {
        (ours.id, ours.tenant_id), (theirs.id, theirs.tenant_id)}  # fmt: skip


NO_TASK = [
    {"event": "started"},
    {"event": "process_started"},
    {"event": "process_started", "trace": {"task_id": "x"}},
]


@pytest.mark.parametrize("payload", NO_TASK)
def test_events_without_a_task_are_ignored(payload):
    assert tasks.from_event(payload) is None


def _tasks(lab, run) -> dict[int, SqlRunTask]:
    with lab.db.session() as s:
        return {t.task_id: t for t in s.scalars(select(SqlRunTask).where(
            SqlRunTask.run_id == run.id))}  # fmt: skip


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
