"""Downloads never write where a dataset's file names could hurt: no `.git/...` (code that
runs on the colleague's machine), nothing outside the target, no existing file replaced
without --force / overwrite=True, no symlink in the target followed."""

from __future__ import annotations

import os

import pytest

from mantle import Client
from mantle.client._targets import check_name, plan_targets
from mantle.errors import ConflictError, InvalidInputError
from tests.transfer.test_sdk_transfer import run, token  # noqa: F401


@pytest.mark.parametrize(
    "name",
    [
        ".git/config",
        "repo/.git/hooks/pre-commit",
        "repo/.GIT/config",
        "repo/.git./config",
        "repo/.git::$INDEX_ALLOCATION/config",
        ".hg/hgrc",
        "a/.svn/entries",
        ".ssh/authorized_keys",
        ".husky/pre-commit",
        "../escape.txt",
        "a/../../escape.txt",
        "/etc/passwd",
        "C:/Windows/evil.dll",
        "c:evil",
        "a\\..\\b",
        "a//b",
        "./a",
        "bell\x07.txt",
        "new\nline.txt",
        "",
    ],
)
def test_dangerous_names_are_refused(name):
    with pytest.raises(InvalidInputError, match="refusing to download"):
        check_name(name)


def test_ordinary_names_pass():
    for name in ("S1_R1.fastq.gz", "run42/lane1/big.bin", ".hidden", "git/config", "a..b"):
        assert check_name(name) == name.split("/")


def test_a_symlink_in_the_target_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "out"
    target.mkdir()
    (target / "run42").symlink_to(elsewhere)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        plan_targets(target, ["run42/notes.txt"], overwrite=True)
    (target / "notes.txt").symlink_to(elsewhere / "notes.txt")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        plan_targets(target, ["notes.txt"], overwrite=True)


def test_two_names_for_one_path_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="same path"):
        plan_targets(tmp_path, ["a.txt", "A.TXT"], overwrite=False)
    with pytest.raises(InvalidInputError, match="folder"):
        plan_targets(tmp_path, ["a", "a/b"], overwrite=False)


def test_existing_files_need_overwrite(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConflictError, match="notes.txt already exists.*--force"):
        plan_targets(tmp_path, ["other.txt", "notes.txt"], overwrite=False)
    assert plan_targets(tmp_path, ["notes.txt"], overwrite=True) == [tmp_path / "notes.txt"]


def test_sdk_refuses_a_dataset_carrying_git_config(live_server, token, tmp_path):  # noqa: F811
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text('[core]\n\tfsmonitor = "touch /tmp/pwned"\n')
    (repo / "data.txt").write_text("fine\n")
    out = tmp_path / "out"
    with Client(live_server.url, token) as client:
        dataset = client.uploads.upload([repo], data_type="directory")
        with pytest.raises(InvalidInputError, match=r"repo/\.git/config"):
            dataset.download(out)
    assert not (out / "repo").exists(), "nothing is written when one name is unsafe"


def test_cli_download_keeps_existing_files_unless_forced(live_server, token, tmp_path):  # noqa: F811
    source = tmp_path / "notes.txt"
    source.write_text("from the dataset\n")
    with Client(live_server.url, token) as client:
        dataset = client.uploads.upload([source], data_type="file")
    got = tmp_path / "got"
    got.mkdir()
    (got / "notes.txt").write_text("my own notes\n")
    (got / "notes.txt.part").symlink_to(tmp_path / "victim")  # the old temporary name

    kept = run(live_server, token, tmp_path, "download", dataset.short_id, "--to", str(got))
    assert kept.returncode == 6, kept.stderr
    assert "notes.txt already exists" in kept.stderr and "--force" in kept.stderr
    assert (got / "notes.txt").read_text() == "my own notes\n"

    forced = run(
        live_server, token, tmp_path, "download", dataset.short_id, "--to", str(got), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert (got / "notes.txt").read_text() == "from the dataset\n"
    assert not (tmp_path / "victim").exists(), "no write through a planted symlink"
    assert sorted(os.listdir(got)) == ["notes.txt", "notes.txt.part"]
