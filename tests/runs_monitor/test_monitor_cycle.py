"""One monitor cycle end to end on fakes: states applied, the trace read into tasks, polls
batched per executor group, failures worded for a scientist, poll errors sorted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mantle.db.models import SqlRunTask, SqlRunTransition
from mantle.errors import CloudError
from mantle.executors.base import JobState, JobStatus
from mantle.runs import failure
from mantle.runs.states import RunStatus
from tests.runs_monitor.conftest import denied
from tests.runs_monitor.test_tasks_trace import TRACE

NEXTFLOW_ERROR_LOG = """\
N E X T F L O W  ~  version 24.04.4
Launching `main.nf` [happy_turing] DSL2 - revision: c0ffee
executor >  awsbatch (3)
[4e/3f1a2b] FASTQC (sample1)     [100%] 1 of 1 ✔
ERROR ~ Error executing process > 'STAR_ALIGN (sample1)'

Caused by:
  Process `STAR_ALIGN (sample1)` terminated with an error exit status (137)

Command executed:

  STAR --genomeDir star --readFilesIn sample1_1.fq.gz

Command exit status:
  137

Command output:
  (empty)

Command error:
  EXITING because of FATAL ERROR: not enough memory for BAM sorting
  SOLUTION: re-run STAR with at least --limitBAMsortRAM 2000000000

Work dir:
  s3://w/work/ab/cd1234

Tip: view the complete command output by changing to the process work dir

 -- Check '.nextflow.log' file for details
launcher: nextflow exited with code 1
"""


def test_pending_stays_and_running_moves_and_reads_the_trace(lab):
    waiting, going = lab.run(), lab.run()
    lab.executor().set(going.external_id, JobStatus.running)
    lab.write(going, "trace.tsv", TRACE)
    stats = lab.monitor().cycle()
    assert stats.moved == {"RUNNING": 1}
    assert lab.get(waiting).status == "SUBMITTED" and lab.get(going).status == "RUNNING"
    with lab.db.session() as s:
        assert len(s.scalars(select(SqlRunTask).where(SqlRunTask.run_id == going.id)).all()) == 3
        assert s.scalars(select(SqlRunTransition.reason)).all() == ["the head job is running"]


def test_polls_are_batched_per_executor_group(lab):
    for tenant in ("a", "b", "c"):  # tenants sharing credentials share a group
        lab.runs(90, tenant, group="shared")
    lab.runs(30, "d", group="own")
    stats = lab.monitor(batch_size=1000).cycle()
    assert stats.claimed == 300 and stats.groups == 2
    assert lab.executor("shared").calls == 3 and lab.executor("own").calls == 1  # 270/100, 30


def test_a_failed_task_names_the_process_exit_code_and_log_line(lab):
    run = lab.run(status=RunStatus.running)
    lab.write(run, "trace.tsv", TRACE)
    lab.write(run, "launcher.log", NEXTFLOW_ERROR_LOG)
    lab.executor().set(run.external_id, JobStatus.failed, "Essential container in task exited", 1)
    assert lab.monitor().cycle().moved == {"FAILED": 1}
    row = lab.get(run)
    assert row.status == "FAILED" and row.exit_code == 1 and row.monitor_owner is None
    assert row.status_reason == (
        "process STAR_ALIGN (sample1) failed with exit code 137: "
        "SOLUTION: re-run STAR with at least --limitBAMsortRAM 2000000000"
    )


def test_a_head_job_that_never_ran_says_what_aws_said_and_what_to_check(lab):
    run = lab.run()
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    lab.executor().set(run.external_id, JobStatus.failed, reason)
    lab.monitor().cycle()
    row = lab.get(run)
    assert row.status == "FAILED" and row.status_reason.startswith(reason)
    assert "ECR read rights" in row.status_reason and "\n" not in row.status_reason


def test_a_launcher_error_gives_the_exit_code_and_its_line(lab):
    run = lab.run(status=RunStatus.running)
    log = "launcher: cloning file:///repo\n"
    log += "launcher: error: cannot check out commit c0ffee: repository not found\n"
    lab.write(run, "launcher.log", log)
    lab.executor().set(run.external_id, JobStatus.failed, "Essential container in task exited", 2)
    lab.monitor().cycle()
    assert lab.get(run).status_reason == (
        "the launcher exited with code 2: cannot check out commit c0ffee: repository not found"
    )


def test_failure_wording_without_logs():
    state = JobState("j", JobStatus.failed, "Host EC2 (instance i-1) terminated.")
    assert failure.explain(state).startswith("Host EC2 (instance i-1) terminated. (the instance")
    assert failure.explain(JobState("j", JobStatus.failed, "", 3)) == (
        "the launcher exited with code 3")  # fmt: skip
    caused = "ERROR ~ Error executing process > 'X (a)'\n\nCaused by:\n  Process `X (a)` died\n"
    assert failure.log_reason(caused) == "Process `X (a)` died"
    assert failure.log_reason("ERROR ~ No such file: params.json\n") == "No such file: params.json"


def test_a_permanent_poll_error_fails_the_group_after_three_cycles(lab):
    broken = [lab.run("a", group="revoked"), lab.run("b", group="revoked")]
    healthy = lab.run("c", group="fine")
    lab.executor("revoked").error = denied()
    lab.executor("fine").set(healthy.external_id, JobStatus.running)
    monitor = lab.monitor()
    for cycle in range(3):
        lab.make_due(*broken)
        stats = monitor.cycle()
        assert stats.group_errors == 1
        expected = "FAILED" if cycle == 2 else "SUBMITTED"
        assert {lab.get(r).status for r in broken} == {expected}
    assert lab.get(broken[0]).status_reason == (
        "the run's state cannot be read: AWS denied batch:DescribeJobs: the credentials were "
        "revoked"
    )
    assert lab.get(healthy).status == "RUNNING"


def test_a_retryable_poll_error_never_fails_runs(lab):
    run = lab.run()
    lab.executor().error = CloudError("Batch is throttling requests", retryable=True)
    monitor = lab.monitor()
    for _ in range(5):
        lab.make_due(run)
        monitor.cycle()
    row = lab.get(run)
    assert row.status == "SUBMITTED" and row.monitor_owner is None
    lab.executor().error = None
    lab.executor().set(run.external_id, JobStatus.running)
    lab.make_due(run)
    monitor.cycle()
    assert lab.get(run).status == "RUNNING"


def test_a_run_cancelled_meanwhile_is_left_alone(lab):
    run = lab.run()
    monitor = lab.monitor()
    claimed = monitor.claim()
    with lab.db.session() as s:
        s.get(type(run), run.id).status = "CANCELLED"
    lab.executor().set(run.external_id, JobStatus.failed, "cancelled by the user")
    from mantle.runs.monitor import CycleStats

    stats = CycleStats()
    monitor._follow_group("g1", claimed, stats)
    row = lab.get(run)
    assert row.status == "CANCELLED" and row.monitor_owner is None
    # Let go as a finished run (never to be looked at again), not as an error to retry.
    assert stats.run_errors == 0 and row.next_check_at is None


def test_a_job_that_ended_between_two_looks_shows_running_from_its_start(lab):
    run = lab.run()  # SUBMITTED
    started = datetime.now(UTC)
    lab.executor().set(run.external_id, JobStatus.failed, "exit 1", 1, started_at=started)
    assert lab.monitor().cycle().moved == {"FAILED": 1}
    with lab.db.session() as s:
        moves = s.scalars(
            select(SqlRunTransition)
            .where(SqlRunTransition.run_id == run.id)
            .order_by(SqlRunTransition.seq)
        ).all()
        assert [(m.from_status, m.to_status) for m in moves][-2:] == [
            ("SUBMITTED", "RUNNING"), ("RUNNING", "FAILED"),
        ]  # fmt: skip
    row = lab.get(run)
    assert row.started_at is not None and row.started_at >= started - timedelta(seconds=1)


def test_a_run_whose_environment_is_gone_fails_alone(lab):
    from mantle.errors import NotFoundError

    orphan, *others = lab.runs(3, group="shared")
    build, store = lab.executor_for, lab.run_store

    def gone(run):
        if run.id == orphan.id:
            raise NotFoundError("the AWS environment of this run no longer exists")

    lab.executor_for = lambda services, session, run: gone(run) or build(services, session, run)
    lab.run_store = lambda services, session, run: gone(run) or store(services, session, run)
    for run in others:
        lab.executor("shared").set(run.external_id, JobStatus.running)
    lab.executor("shared").set(orphan.external_id, JobStatus.failed, "", 1)
    # Polled with the others or on its own (whichever run builds the group's executor):
    # either way the orphan fails with the reason, and only the orphan.
    lab.monitor(failures_before_failing=1).cycle()
    assert lab.get(orphan).status == "FAILED"
    assert "no longer exists" in lab.get(orphan).status_reason
    assert {lab.get(r).status for r in others} == {"RUNNING"}
