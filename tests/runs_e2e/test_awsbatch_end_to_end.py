"""The built-in `fastq-stats` end to end on an AWS environment: FASTQ pairs in a read bucket
(moto), the run launched through the API onto the Batch emulator, whose head job is the REAL
launcher (`python -m mantle.launcher s3://...`, boto3 inside pointed at moto), the monitor
following the job to SUCCEEDED, the outputs published under the run's `outputs/` in the
write bucket and registered as datasets with lineage inputs -> run -> outputs."""

from __future__ import annotations


def test_fastq_stats_on_batch_to_datasets_with_lineage(aws_lab, batch_emulator):
    inputs = [aws_lab.pair(s) for s in ("S1", "S2")]
    run = aws_lab.call("POST", "/runs", 201, json={
        "pipeline": "fastq-stats", "inputs": {"datasets": [d["id"] for d in inputs]},
        "environment": "prod", "name": "stats on batch"})  # fmt: skip
    assert run["executor"] == "awsbatch" and run["status"] == "SUBMITTED"
    head = batch_emulator.job(run["external_id"])
    assert head.detail["container"]["command"] == ["python", "-m", "mantle.launcher",
                                                   run["run_dir"]]  # fmt: skip
    shown = aws_lab.follow(run["id"])
    assert shown["status"] == "SUCCEEDED", (shown, head.output[-15:])
    assert head.status == "SUCCEEDED"
    prefix = f"mantle/runs/{run['id']}/"
    stored = aws_lab.objects(prefix)
    assert {"outputs/fastq_stats.csv", "outputs/fastq_stats.html", "outputs.json",
            "trace.tsv", "launcher.log"} <= stored  # fmt: skip
    outputs = {o["path"]: o for o in aws_lab.call("GET", f"/runs/{run['id']}/outputs")}
    table = aws_lab.call("GET", f"/datasets/{outputs['fastq_stats.csv']['short_id']}")
    report = aws_lab.call("GET", f"/datasets/{outputs['fastq_stats.html']['short_id']}")
    assert table["data_type"] == "table" and report["data_type"] == "report"
    assert table["origin"] == "pipeline_run"
    graph = aws_lab.call("GET", f"/datasets/{inputs[1]['short_id']}/lineage",
                         params={"direction": "downstream"})  # fmt: skip
    reached = {n["id"] for n in graph["nodes"]}
    assert {table["short_id"], report["short_id"]} <= reached
    activity = next(n for n in graph["nodes"] if n["kind"] == "activity")
    assert activity["details"]["run_id"] == run["id"]
    tasks = aws_lab.call("GET", f"/runs/{run['id']}/tasks")["items"]
    assert [t["status"] for t in tasks] == ["COMPLETED"]
    logs = aws_lab.call("GET", f"/runs/{run['id']}/logs")
    assert logs["source"] == "executor"  # the head job's output, from CloudWatch (moto)
    assert any("downloading s3://" in line["message"] for line in logs["lines"])
