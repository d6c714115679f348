"""The SDK and the CLI's catalog commands, in process against the test app (both engines)."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from typer.testing import CliRunner

import mantle
from mantle.cli import catalog as catalog_cli
from mantle.cli.main import app as cli_app
from mantle.client import Client
from tests.catalog.conftest import READ_BUCKET


@pytest.fixture
def sdk(lab):
    with Client("http://testserver", lab.member.token, transport=lab.api._transport) as client:
        yield client


def _make_pairs(sdk, count: int) -> None:
    for i in range(count):
        sdk.datasets.create(
            f"S{i} reads",
            "fastq_pair",
            {
                "sample": f"S{i}",
                "read1": f"{READ_BUCKET}S{i}_1.fq",
                "read2": f"{READ_BUCKET}S{i}_2.fq",
            },
            tags=["even" if i % 2 == 0 else "odd"],
        )


def test_sdk_round_trip(sdk):
    assert "fastq_pair" in {t.name for t in sdk.data_types.list()}
    created = sdk.data_types.create("bam", [{"name": "sample", "type": "string", "required": True}])
    assert sdk.data_types.update("bam", description="aligned").version == created.version + 1
    assert [v.version for v in sdk.data_types.versions("bam")] == [1, 2]
    _make_pairs(sdk, 5)
    found = sdk.datasets.list(
        type="fastq_pair", where={"sample": {"in": ["S1", "S3"]}}, page_size=1
    )
    assert sorted(d.short_id for d in found) == ["DS-000002", "DS-000004"]  # two pages
    assert found.count() == 2
    assert sdk.datasets.query(type="fastq_pair", where=["sample=S0"], tags=["even"]).count() == 1
    ds = sdk.datasets.update("DS-000001", properties={"sample": "S0b"}, add_tags=["qc"])
    assert ds.version == 2 and "qc" in ds.tags
    with pytest.raises(mantle.ConflictError):
        sdk.datasets.update("DS-000001", name="x", expected_version=1)
    assert sdk.datasets.archive(ds.id).archived and not sdk.datasets.restore(ds.id).archived
    assert [v.change for v in sdk.datasets.versions(ds.id)] == [
        "created",
        "updated",
        "archived",
        "restored",
    ]
    assert sdk.datasets.version(ds.id, 1).properties["sample"] == "S0"
    activity = sdk.activities.record("pipeline_run", inputs=["DS-000001"], outputs=["DS-000002"])
    assert sdk.activities.get(activity.id).outputs == ["DS-000002"]
    graph = sdk.datasets.lineage("DS-000002", depth=1)
    assert {n.id for n in graph.nodes if n.kind == "dataset"} == {"DS-000001", "DS-000002"}
    sheet = sdk.datasets.export(
        type="fastq_pair", columns="sample,fastq_1=read1", where=["sample=S2"]
    )
    assert list(csv.reader(io.StringIO(sheet))) == [
        ["sample", "fastq_1"],
        ["S2", f"{READ_BUCKET}S2_1.fq"],
    ]
    with pytest.raises(mantle.NotFoundError):
        sdk.datasets.get("DS-000999")
    with pytest.raises(mantle.InvalidInputError, match="property 'read1'"):
        sdk.datasets.create("bad", "fastq_pair", {"sample": "x"})


def test_sdk_datasets_are_bound_to_their_client(sdk):
    """What the SDK returns knows where it came from: `ds.update(...)` sends the version it
    was read at (a stale object gets ConflictError), `ds.refresh()`, `ds.lineage()`..."""
    _make_pairs(sdk, 2)
    first = next(iter(sdk.datasets.query(type="fastq_pair", sort="id")))
    assert isinstance(first, mantle.client.Dataset) and first.short_id == "DS-000001"
    changed = first.update(add_tags=["qc"])
    assert changed.version == 2 and "qc" in changed.tags
    with pytest.raises(mantle.ConflictError):
        first.update(name="stale")  # read at version 1
    assert first.refresh().tags == changed.tags
    assert [v.change for v in changed.versions()] == ["created", "updated"]
    assert changed.archive().archived and changed.restore().archived is False
    assert any(n.id == first.short_id for n in first.lineage().nodes)
    unbound = mantle.client.Dataset.model_validate(first.model_dump())
    with pytest.raises(mantle.InvalidInputError, match="not bound"):
        unbound.download()


def test_export_to_a_file(sdk, tmp_path):
    _make_pairs(sdk, 3)
    target = tmp_path / "all.json"
    assert sdk.datasets.export("json", path=target) is None
    assert len(json.loads(target.read_text())) == 3


def test_to_dataframe(sdk):
    pandas = pytest.importorskip("pandas")
    _make_pairs(sdk, 3)
    frame = sdk.datasets.to_dataframe(type="fastq_pair", sort="id")
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["sample"]) == ["S0", "S1", "S2"] and list(frame["id"])[0] == "DS-000001"


def test_to_dataframe_without_pandas_says_how_to_get_it(sdk, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"mantle\[pandas\]"):
        sdk.datasets.to_dataframe()


@pytest.fixture
def cli(sdk, monkeypatch):
    monkeypatch.setattr(catalog_cli, "client", lambda: sdk)
    monkeypatch.setattr(type(sdk), "__exit__", lambda *a: None)  # keep it open across commands
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli_app, list(args), catch_exceptions=False)

    return run


def test_cli_commands(cli, sdk):
    created = cli(
        "types", "create", "bam", "--prop", "sample:string!", "--prop", "lane:integer=1|2", "--json"
    )
    assert created.exit_code == 0, created.output
    shown = json.loads(cli("types", "show", "bam", "--json").stdout)
    assert [(p["name"], p["required"], p.get("enum")) for p in shown["properties"]] == [
        ("sample", True, None), ("lane", False, [1, 2]),
    ]  # fmt: skip
    assert "│ sample   │ string  │ required │" in cli("types", "show", "bam").stdout
    assert "fastq_pair" in cli("types", "list").stdout
    _make_pairs(sdk, 3)
    listed = json.loads(
        cli("datasets", "list", "--type", "fastq_pair", "--where", "sample=S1", "--json").stdout
    )
    assert [d["short_id"] for d in listed] == ["DS-000002"]
    assert cli("datasets", "list", "--tag", "even", "--count").stdout.strip() == "2"
    updated = cli(
        "datasets", "update", "DS-000002", "--prop", "sample=S1b", "--tag", "qc", "--json"
    )
    assert json.loads(updated.stdout)["version"] == 2
    assert "S1b" in cli("datasets", "show", "DS-000002").stdout
    assert json.loads(cli("datasets", "show", "DS-000002", "--version", "1", "--json").stdout)[
        "properties"]["sample"] == "S1"  # fmt: skip
    history = json.loads(cli("datasets", "history", "DS-000002", "--json").stdout)
    assert [v["change"] for v in history] == ["created", "updated"]
    assert json.loads(cli("datasets", "archive", "DS-000002", "--json").stdout)["archived"]
    assert not json.loads(cli("datasets", "restore", "DS-000002", "--json").stdout)["archived"]
    sdk.activities.record("pipeline_run", inputs=["DS-000001"], outputs=["DS-000002"])
    assert "DS-000001" in cli("datasets", "lineage", "DS-000002").stdout
    sheet = cli(
        "datasets", "export", "--type", "fastq_pair", "--columns", "sample", "--where", "sample=S0"
    )
    assert sheet.stdout.splitlines() == ["sample", "S0"]


def test_cli_errors_have_exit_codes(cli):
    from mantle.cli.main import main

    def code(*args):
        sys_argv = sys.argv
        sys.argv = ["mantle", *args]
        try:
            main()
        except SystemExit as e:
            return e.code
        finally:
            sys.argv = sys_argv
        return 0

    assert code("datasets", "show", "DS-000404") == 5
    assert code("types", "create", "x", "--prop", "bad spec") == 7
    assert code("datasets", "update", "DS-000404", "--prop", "novalue") == 7
