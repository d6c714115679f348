"""The launcher's failure paths on a local run directory: each ends with one line a user can
act on (`launcher: error: ...`) and the launcher's exit code, and leaves no outputs.json."""

from __future__ import annotations

import pytest

from mantle.rundir import OUTPUTS_JSON
from tests.launcher.conftest import launch_here, nextflow_pipeline, run_launcher, write_run
from tests.nextflow_standin import make_pipeline_repo


def test_a_commit_missing_from_the_repository_is_refused(store, pipeline_repo, env, tmp_path):
    pipeline = nextflow_pipeline(pipeline_repo, commit="0123456789abcdef0123456789abcdef01234567")
    run = write_run(store, pipeline, work_dir=(tmp_path / "work").as_uri())

    assert launch_here(run.url) == 1
    last = run.log_tail()[-1]
    assert last.startswith("launcher: error:")
    assert "0123456789abcdef0123456789abcdef01234567" in last
    assert not run.store.exists(OUTPUTS_JSON)


def test_an_unreachable_repository_is_a_clear_error(store, env, tmp_path):
    pipeline = nextflow_pipeline(make_pipeline_repo(tmp_path), repository=str(tmp_path / "gone"))
    run = write_run(store, pipeline, work_dir=(tmp_path / "work").as_uri())

    assert launch_here(run.url) == 1
    assert "does not exist" in run.log_tail()[-1]


def test_a_missing_nextflow_is_a_clear_error_with_exit_127(store, pipeline_repo, env, tmp_path):
    env = {**env, "MANTLE_NEXTFLOW": str(tmp_path / "no-such-nextflow")}
    run = write_run(store, nextflow_pipeline(pipeline_repo), work_dir=(tmp_path / "w").as_uri())

    done = run_launcher(run.url, env)

    assert done.returncode == 127
    last = run.log_tail()[-1]
    assert last.startswith("launcher: error:") and "no-such-nextflow" in last


def test_nextflow_must_be_on_path_or_named(monkeypatch, tmp_path):
    from mantle.launcher.context import LauncherError
    from mantle.launcher.nextflow import nextflow_binary

    monkeypatch.delenv("MANTLE_NEXTFLOW", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LauncherError) as raised:
        nextflow_binary()
    assert raised.value.exit_code == 127
    assert "MANTLE_NEXTFLOW" in raised.value.message


def test_an_earlier_attempts_manifest_is_replaced(store, pipeline_repo, env, tmp_path):
    run = write_run(store, nextflow_pipeline(pipeline_repo), work_dir=(tmp_path / "w").as_uri())
    run.store.put(OUTPUTS_JSON, b'{"run_id": "old", "exit_code": 9, "files": []}')

    assert launch_here(run.url) == 0
    assert run.manifest().exit_code == 0
    assert run.manifest().run_id == run.spec.run_id
    assert len(run.manifest().files) == 9


def test_a_run_directory_without_a_valid_run_json_is_refused(store, env):
    run_store = store.scoped("runs/broken/")
    run_store.put("run.json", b'{"run_id": 1}')

    assert launch_here(run_store.root_uri) == 1
    last = run_store.read_bytes("launcher.log").decode().splitlines()[-1]
    assert last.startswith("launcher: error: run.json is not a valid run spec")


def test_a_run_directory_that_does_not_exist_is_refused(tmp_path, capsys):
    assert launch_here((tmp_path / "nowhere").as_uri()) == 1
    assert "does not exist" in capsys.readouterr().err
