"""fastq-stats end to end under the real launcher on a local run directory, as the embedded
default runs it: the spec from the registry, the protocol, outputs.json, the output rules."""

from __future__ import annotations

import gzip

from mantle.pipelines.outputs import match_outputs
from mantle.pipelines.schema import validate_params
from mantle.pipelines.script import builtin_specs
from mantle.rundir import InputDataset, InputFile, PipelineRef
from mantle.storage import FileObjectStore
from tests.launcher.conftest import launch_here, write_run


def test_fastq_stats_under_the_launcher(tmp_path, monkeypatch):
    monkeypatch.setenv("MANTLE_LAUNCHER_SYNC_SECONDS", "0.2")
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "A_R1.fastq.gz").write_bytes(gzip.compress(b"@r1\nGGCC\n+\nIIII\n"))
    (folder / "A_R2.fastq").write_bytes(b"@r2\nATAT\n+\n!!!!\n")
    dataset = InputDataset(
        id="7d1c6a8e-0000-4000-8000-000000000001",
        short_id="DS-000012",
        name="A reads",
        data_type="fastq_pair",
        properties={"sample": "A"},
        files=[InputFile(name=p.name, uri=p.as_uri()) for p in sorted(folder.iterdir())],
    )
    spec, _ = builtin_specs()[0]
    pipeline = PipelineRef(name=spec.name, engine="script", script=spec.model_dump(mode="json"))
    run = write_run(
        FileObjectStore(tmp_path / "objects"),
        pipeline,
        work_dir=(tmp_path / "work").as_uri(),
        params=validate_params(spec.params, {}),
        samplesheet=False,
        inputs=[dataset],
    )
    assert launch_here(run.url) == 0, run.log()
    table = run.store.read_bytes("outputs/fastq_stats.csv").decode().splitlines()
    assert table[1:] == [
        "DS-000012,A,A_R1.fastq.gz,1,4,40.0000,1.0000",
        "DS-000012,A,A_R2.fastq,1,4,0.0000,0.0000",
    ]
    groups = match_outputs(spec.outputs, run.manifest().files)
    assert [(g.data_type, [f.path for f in g.files]) for g in groups] == [
        ("table", ["fastq_stats.csv"]),
        ("report", ["fastq_stats.html"]),
    ]
