"""Git URLs and revisions resolved to commits, files read at a commit, dangerous URLs refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mantle.errors import InvalidInputError
from mantle.pipelines import git
from mantle.pipelines.git import GitRepositories, check_url
from tests.pipelines.conftest import MAIN_NF, Repo


@pytest.fixture
def repos(tmp_path) -> GitRepositories:
    return GitRepositories(tmp_path / "git-cache", timeout=30)


def test_tags_branches_and_commits_resolve_to_the_exact_commit(tmp_path, repos):
    repo = Repo(tmp_path / "p")
    first = repo.commit({"main.nf": MAIN_NF})
    repo.tag("v1")
    repo.branch("dev")
    second = repo.commit({"main.nf": MAIN_NF + "// dev\n"})
    assert repos.resolve(repo.url, "v1") == first
    assert repos.resolve(repo.url, "main") == first
    assert repos.resolve(repo.url, "dev") == second
    assert repos.resolve(repo.url, second[:10]) == second
    assert repos.resolve("file://" + repo.url, "dev") == second
    # A new commit on a branch is seen on the next resolve (the cache is fetched again).
    third = repo.commit({"README.md": "hi"})
    assert repos.resolve(repo.url, "dev") == third
    assert repos.read(repo.url, first, "main.nf") == MAIN_NF.encode()
    assert repos.read(repo.url, third, "README.md") == b"hi"
    assert repos.read(repo.url, first, "README.md") is None  # not there yet at v1
    assert repos.read(repo.url, first, "nope/x.json") is None


def test_one_bare_clone_per_url_and_no_temp_left(tmp_path, repos):
    repo = Repo(tmp_path / "p")
    repo.commit({"main.nf": MAIN_NF})
    repos.resolve(repo.url, "main")
    repos.resolve(repo.url, "main")
    with pytest.raises(InvalidInputError):
        repos.resolve(str(tmp_path / "missing"), "main")
    clones = sorted(p.name for p in (tmp_path / "git-cache").iterdir() if p.suffix == ".git")
    assert clones == [repos.path_for(repo.url).name]
    assert not [p for p in (tmp_path / "git-cache").iterdir() if p.name.startswith(".clone-")]


def test_unknown_revision_and_unreachable_repository_are_422_with_gits_reason(tmp_path, repos):
    repo = Repo(tmp_path / "p")
    repo.commit({"main.nf": MAIN_NF})
    with pytest.raises(InvalidInputError, match="'v9' is not a tag, branch or commit"):
        repos.resolve(repo.url, "v9")
    with pytest.raises(InvalidInputError, match="does not exist"):
        repos.resolve(str(tmp_path / "nowhere"), "main")
    with pytest.raises(InvalidInputError, match="git clone"):
        repos.resolve("https://127.0.0.1:9/none.git", "main")


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "--upload-pack=touch /tmp/pwned",
        "-oProxyCommand=x",
        "ftp://example.com/repo.git",
        "relative/path",
        "https://user:secret@github.com/org/repo.git",
        "https://github.com/org/repo\n.git",
        "",
    ],
)
def test_dangerous_urls_are_refused_before_git_runs(url, repos, no_git):
    with pytest.raises(InvalidInputError):
        repos.resolve(url, "main")


@pytest.mark.parametrize("revision", ["--output=/tmp/x", "a b", "main:secret", ""])
def test_odd_revisions_are_refused(tmp_path, repos, revision, monkeypatch):
    repo = Repo(tmp_path / "p")
    repo.commit({"main.nf": MAIN_NF})
    monkeypatch.setattr(git, "run_git", _git_must_not_run)
    with pytest.raises(InvalidInputError):
        repos.resolve(repo.url, revision)


def _git_must_not_run(*args, **kwargs):
    pytest.fail(f"git ran with {args}: the input should have been refused before")


@pytest.fixture
def no_git(monkeypatch):
    monkeypatch.setattr(git, "run_git", _git_must_not_run)


def test_accepted_url_forms():
    for url in (
        "https://github.com/nf-core/rnaseq",
        "git@github.com:nf-core/rnaseq.git",
        "ssh://git@github.com/nf-core/rnaseq.git",
        "file:///srv/repos/p.git",
        "/srv/repos/p",
    ):
        assert check_url(url) == url
    with pytest.raises(InvalidInputError, match="local"):
        check_url("/srv/repos/p", allow_local=False)
    with pytest.raises(InvalidInputError, match="local"):
        check_url("file:///srv/repos/p", allow_local=False)
    with pytest.raises(InvalidInputError, match="belongs to the Mantle server"):
        check_url("file:///srv/mantle/../mantle/x", forbidden_roots=[Path("/srv/mantle")])


def test_git_messages_never_show_a_password(tmp_path, repos):
    from mantle.pipelines.git import _trimmed

    assert "secret" not in _trimmed("fatal: unable to access 'https://u:secret@h/x.git/'")


def test_paths_outside_the_repository_are_refused(tmp_path, repos):
    repo = Repo(tmp_path / "p")
    commit = repo.commit({"main.nf": MAIN_NF})
    for path in ("../x", "/etc/passwd", "-p"):
        with pytest.raises(InvalidInputError):
            repos.read(repo.url, commit, path)
