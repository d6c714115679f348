"""The launcher on an S3 run directory (moto on loopback, reached through
`MANTLE_AWS__ENDPOINT_URL` as a Batch head job reaches S3 through its role): inputs are
downloaded from their buckets, outputs, trace and log are uploaded, the log while the run
goes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from mantle.errors import NotFoundError
from mantle.rundir import InputDataset, InputFile
from mantle.storage import StoreOptions, open_object_store
from tests.aws import moto_server, unique_name  # noqa: F401
from tests.launcher.conftest import launch_here, nextflow_pipeline, write_run
from tests.launcher.test_nextflow_engine import EXPECTED_OUTPUTS
from tests.launcher.test_script_engine import script_pipeline

R1 = b"@r1\nACGTACGT\n+\nIIIIIIII\n"


@pytest.fixture
def s3_env(moto_server, env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MANTLE_AWS__ENDPOINT_URL", moto_server.endpoint_url)
    return dict(os.environ)


@pytest.fixture(scope="module")
def s3_session(moto_server):  # noqa: F811
    # One session for the tests' own stores: each new one loads S3's model again (~1 s).
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def bucket_store(moto_server, s3_env, s3_session):  # noqa: F811
    """Opens `s3://bucket/prefix` on moto, creating the bucket."""
    options = StoreOptions(
        s3_endpoint_url=moto_server.endpoint_url,
        s3_region=moto_server.region,
        session_factory=lambda: s3_session,
    )

    def open_bucket(prefix: str = ""):
        bucket = unique_name("launcher")
        store = open_object_store(f"s3://{bucket}/{prefix}", options=options)
        store.client.create_bucket(Bucket=bucket)
        return store

    return open_bucket


def s3_inputs(store) -> list[InputDataset]:
    store.put("raw/A_R1.fastq.gz", R1)
    store.put("raw/A_R2.fastq.gz", b"@r2\nTT\n+\nII\n")
    files = [
        InputFile(name=name, uri=store.uri(f"raw/A_{name}"))
        for name in ("R1.fastq.gz", "R2.fastq.gz")
    ]
    return [InputDataset(id="d1", short_id="ds-7", name="A", data_type="fastq_pair", files=files)]


def test_a_script_run_downloads_inputs_and_uploads_outputs_trace_and_log(bucket_store, tmp_path):
    inputs = s3_inputs(bucket_store())
    run = write_run(
        bucket_store("mantle"),
        script_pipeline(),
        work_dir="s3://unused/work/",
        params={"greeting": "from s3"},
        samplesheet=False,
        inputs=inputs,
    )
    assert run.url.startswith("s3://")

    assert launch_here(run.url) == 0

    summary = json.loads(run.store.read_bytes("outputs/summary.json"))
    staged = summary["inputs"][0]["files"][0]["path"]
    assert staged.endswith("/inputs/ds-7/R1.fastq.gz")  # downloaded into scratch
    digest = run.store.read_bytes("outputs/per_file/ds-7_R1.fastq.gz.sha256").decode()
    assert digest == hashlib.sha256(R1).hexdigest()
    manifest = run.manifest()
    assert manifest.exit_code == 0
    listed = {f.path: f for f in manifest.files}
    assert set(listed) == {
        "per_file/ds-7_R1.fastq.gz.sha256",
        "per_file/ds-7_R2.fastq.gz.sha256",
        "summary.json",
    }
    data = run.store.read_bytes("outputs/summary.json")
    assert listed["summary.json"].checksum == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert listed["summary.json"].size == len(data)
    assert run.trace()[0]["status"] == "COMPLETED"
    assert "greeting is from s3" in run.log()
    assert run.log_tail()[-1] == "launcher: script succeeded"


def test_a_missing_input_object_is_a_clear_error(bucket_store):
    inputs = s3_inputs(bucket_store())
    inputs[0].files[1].uri += ".missing"
    run = write_run(
        bucket_store("mantle"),
        script_pipeline(),
        work_dir="s3://unused/work/",
        params={"greeting": "x"},
        samplesheet=False,
        inputs=inputs,
    )

    assert launch_here(run.url) == 1
    last = run.log_tail()[-1]
    assert last.startswith("launcher: error:") and "A_R2.fastq.gz.missing" in last
    with pytest.raises(NotFoundError):
        run.store.head("outputs.json")


def test_the_log_is_uploaded_while_the_run_goes(bucket_store, s3_env):
    program = "import time; print('halfway', flush=True); time.sleep(1.5); print('finished')"
    run = write_run(
        bucket_store("mantle"),
        script_pipeline(command=["{python}", "-c", program]),
        work_dir="s3://unused/work/",
        samplesheet=False,
    )
    launcher = subprocess.Popen(
        [sys.executable, "-m", "mantle.launcher", run.url],
        env=s3_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen_running = False
        deadline = time.monotonic() + 20
        while launcher.poll() is None and time.monotonic() < deadline:
            try:
                text = run.log()
            except NotFoundError:
                text = ""
            lines = text.splitlines()
            if "halfway" in lines and "finished" not in lines:
                seen_running = True
                break
            time.sleep(0.1)
        assert launcher.wait(timeout=20) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert seen_running, "launcher.log reached S3 only at the end"
    assert "finished" in run.log().splitlines()


def test_nextflow_publishing_to_s3_is_listed_and_hashed_from_s3(
    bucket_store, pipeline_repo, s3_env, monkeypatch, tmp_path
):
    # The stand-in publishes to S3 with boto3: give it this interpreter as `python3`.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    run = write_run(bucket_store("mantle"), nextflow_pipeline(pipeline_repo), work_dir="s3://w/x/")

    assert launch_here(run.url) == 0, run.log()

    manifest = run.manifest()
    assert {f.path for f in manifest.files} == EXPECTED_OUTPUTS
    bam = next(f for f in manifest.files if f.path == "star/s1.bam")
    data = run.store.read_bytes("outputs/star/s1.bam")
    assert bam.checksum == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert len(run.trace()) == 5
    assert "Submitted process > MULTIQC" in run.log()
