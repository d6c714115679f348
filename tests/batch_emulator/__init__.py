"""A small AWS Batch emulator for tests (never shipped): Batch's REST-JSON API on 127.0.0.1
that runs each job's container command as a subprocess with the job's environment, moves it
through Batch's states, honours TerminateJob, and writes its output to CloudWatch Logs on the
shared moto server. moto's own Batch never runs a job; boto3 talks to this one through
`endpoint_url` exactly as to AWS.

With pytest, import the fixture into a conftest (or test module):

    from tests.batch_emulator.fixtures import batch_emulator, moto_server  # noqa: F401

    def test_run(batch_emulator):
        executor = AwsBatchExecutor(batch_emulator.connection(), target, group_key="g")
        batch_emulator.faults.throttle_describe_jobs = 2   # the next 2 DescribeJobs get 429
        ...
        batch_emulator.wait_for(job_id)                    # SUCCEEDED or FAILED
        batch_emulator.calls["describejobs"]               # calls answered, by operation

Settings for a whole server: `aws={"endpoint_url": moto_server.endpoint_url,
"endpoint_urls": batch_emulator.endpoint_urls()}`. Without pytest:
`with running_emulator(logs_endpoint) as emulator: ...`. Queues `mantle-head` and
`mantle-compute` exist (`add_queue` for more); the container's `python` is this interpreter
(`replace_command` runs another program instead of a command prefix); a job's environment
points boto3 at the emulator for Batch and at moto for everything else; `seed_jobs(n)` makes
jobs that are only described (benchmarks).
"""

from tests.batch_emulator.batch_api import Faults
from tests.batch_emulator.server import BatchEmulator, running_emulator

__all__ = ["BatchEmulator", "Faults", "running_emulator"]
