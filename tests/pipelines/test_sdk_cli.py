"""`client.pipelines` and `mantle pipelines ...` in process against the test app."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

import mantle
from mantle.cli import pipelines as pipelines_cli
from mantle.cli.main import app as cli_app
from mantle.client import Client


@pytest.fixture
def member(factory):
    return factory.member("acme", "alice@example.com", "member")


@pytest.fixture
def sdk(api, member):
    with Client("http://testserver", member.token, transport=api._transport) as client:
        yield client


@pytest.fixture
def cli(sdk, monkeypatch):
    monkeypatch.setattr(pipelines_cli, "client", lambda: sdk)
    monkeypatch.setattr(type(sdk), "__exit__", lambda *a: None)  # keep it open across commands
    runner = CliRunner()
    return lambda *args: runner.invoke(cli_app, list(args), catch_exceptions=False)


def test_sdk(sdk, rnaseq_repo, factory, api):
    added = sdk.pipelines.add(rnaseq_repo.url, revision="1.0.0", description="RNA-seq")
    assert (added.pipeline, added.version, added.samplesheet_param) == ("rnaseq", 1, "input")
    assert {p.name for p in sdk.pipelines.list()} == {"rnaseq", "fastq-stats"}
    shown = sdk.pipelines.get("rnaseq")
    assert (shown.description, shown.commit) == ("RNA-seq", added.commit)
    assert sdk.pipelines.get(str(shown.id)).name == "rnaseq"
    assert sdk.pipelines.version("rnaseq").commit == added.commit
    assert [v.version for v in sdk.pipelines.versions("rnaseq")] == [1]
    form = sdk.pipelines.schema("rnaseq")
    assert form.groups[0]["title"] == "Input/output options"
    with pytest.raises(mantle.InvalidInputError, match="'nope' is not a tag"):
        sdk.pipelines.add(rnaseq_repo.url, revision="nope")
    with pytest.raises(mantle.NotFoundError):
        sdk.pipelines.get("missing")
    viewer = factory.member("acme", "val@example.com", "viewer")
    with Client("http://testserver", viewer.token, transport=api._transport) as as_viewer:
        with pytest.raises(mantle.PermissionDeniedError):
            as_viewer.pipelines.add(rnaseq_repo.url, name="other")
        assert as_viewer.pipelines.schema("rnaseq").samplesheet_param == "input"


def test_cli(cli, rnaseq_repo, tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text("- {glob: 'star/*.bam', data_type: file, pattern: 'star/(?P<sample>[^/]+)'}\n")
    added = cli(
        "pipelines", "add", rnaseq_repo.url, "-r", "1.0.0", "--name", "rna", "--rules", str(rules),
        "--column", "sample=name", "--column", "fastq_1=file:R1", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["output_rules"][0]["glob"] == "star/*.bam"
    assert data["samplesheet"]["columns"] == {"sample": "name", "fastq_1": "file:R1"}
    listed = cli("pipelines", "list").stdout
    assert "rna" in listed and "fastq-stats" in listed
    shown = cli("pipelines", "show", "rna").stdout
    assert data["commit"] in shown and "star/*.bam" in shown
    schema = cli("pipelines", "schema", "rna").stdout
    assert "input *" in schema and "max_cpus" not in schema  # hidden unless --all
    assert "max_cpus" in cli("pipelines", "schema", "rna", "--all").stdout
    assert "samplesheet: --input takes a CSV" in schema
    assert (
        "input 'reads': datasets of fastq, fastq_pair, file"
        in cli("pipelines", "schema", "fastq-stats").stdout
    )
    versions = json.loads(cli("pipelines", "versions", "rna", "--json").stdout)
    assert [v["version"] for v in versions] == [1]


def test_cli_errors_have_exit_codes(cli, tmp_path):
    from mantle.cli.main import main

    def code(*args):
        saved, sys.argv = sys.argv, ["mantle", *args]
        try:
            main()
        except SystemExit as e:
            return e.code
        finally:
            sys.argv = saved
        return 0

    assert code("pipelines", "show", "missing") == 5
    assert code("pipelines", "add", "ext::sh -c id") == 7
    assert code("pipelines", "add", str(tmp_path), "--column", "novalue") == 7
