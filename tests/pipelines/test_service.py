"""The `Pipelines` service as other services call it (launch, ingest): versions, the built-in
pipeline kept up to date with the spec shipped, git work done outside the transaction."""

from __future__ import annotations

from mantle.accounts.policy import Permission, authorize
from mantle.db.repositories import users as user_repo
from mantle.pipelines.outputs import match_outputs
from mantle.pipelines.samplesheet import samplesheet_param
from mantle.pipelines.schema import validate_params
from mantle.pipelines.script import builtin_specs
from mantle.rundir import OutputFile
from tests.pipelines.conftest import MAIN_NF


def access_for(session, email: str, tenant: str):
    from mantle.accounts.policy import Principal

    user = user_repo.get_by_email(session, email)
    principal = Principal(user_id=user.id, email=email, is_superuser=False)
    return authorize(session, principal, tenant, Permission.read)


def test_service_calls_used_by_launch_and_ingest(app, factory, database, rnaseq_repo):
    factory.member("acme", "alice@example.com", "member")
    pipelines = app.state.services.pipelines
    snapshot = pipelines.inspect(rnaseq_repo.url, "1.0.0")  # no session open while git runs
    with database.session() as session:
        access = access_for(session, "alice@example.com", "acme")
        version = pipelines.register(
            session, access, name="rnaseq", repository=rnaseq_repo.url, revision="1.0.0",
            snapshot=snapshot,
        )  # fmt: skip
        assert version.version == 1 and version.commit == snapshot.commit
    rnaseq_repo.commit({"main.nf": MAIN_NF + "// 2\n"})
    with database.session() as session:
        access = access_for(session, "alice@example.com", "acme")
        pipelines.register(
            session, access, name="rnaseq", repository=rnaseq_repo.url, revision="main"
        )
        latest = pipelines.version(session, access, "rnaseq")
        first = pipelines.version(session, access, "rnaseq", 1)
        assert (latest.version, first.commit) == (2, snapshot.commit)
        assert [v.version for v in pipelines.versions(session, access, "rnaseq")] == [1, 2]
        assert samplesheet_param(latest) == "input"
        params = validate_params(latest.params_schema, {"input": "s.csv", "outdir": "/o"})
        assert params["max_cpus"] == 16
        form = pipelines.schema(session, access, "rnaseq")
        assert [c["name"] for c in form.samplesheet_columns][:2] == ["sample", "fastq_1"]


def test_the_builtin_gets_a_new_version_when_its_spec_changes(app, factory, database):
    factory.member("acme", "alice@example.com", "member")
    pipelines = app.state.services.pipelines
    with database.session() as session:
        access = access_for(session, "alice@example.com", "acme")
        first = pipelines.version(session, access, "fastq-stats")
        assert first.version == 1 and first.script["command"][0] == "{python}"
        outputs = [OutputFile(path="fastq_stats.csv", size=1, checksum="sha256:0")]
        assert [g.data_type for g in match_outputs(first.output_rules, outputs)] == ["table"]
        pipelines.list(session, access)  # seeding again changes nothing
        assert pipelines.version(session, access, "fastq-stats").version == 1
    spec, text = builtin_specs()[0]
    changed = spec.model_copy(update={"description": "newer"})
    pipelines._builtins = [(changed, text)]
    with database.session() as session:
        access = access_for(session, "alice@example.com", "acme")
        newer = pipelines.version(session, access, "fastq-stats")
        assert (newer.version, newer.script["description"]) == (2, "newer")
