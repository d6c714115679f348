"""Pipeline test helpers: small git repositories made in tmp_path (with `git init`), shaped
like nf-core pipelines (draft-07 schema) and nf-schema 2 pipelines (2020-12 schema)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MAIN_NF = "workflow {\n    log.info 'hello'\n}\n"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "HOME": "/nonexistent",
    "PATH": "/usr/bin:/bin",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=_GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


class Repo:
    """A git work tree: `commit(files)` writes and commits, returns the commit id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        git(path, "init", "--quiet", "--initial-branch=main")

    @property
    def url(self) -> str:
        return str(self.path)

    def commit(self, files: dict[str, str | dict], message: str = "change") -> str:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            text = content if isinstance(content, str) else json.dumps(content, indent=2)
            target.write_text(text)
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def tag(self, name: str) -> None:
        git(self.path, "tag", name)

    def branch(self, name: str) -> None:
        git(self.path, "checkout", "--quiet", "-b", name)


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def nf_core_files(dialect: str = "draft-07") -> dict[str, str | dict]:
    prefix = "rnaseq" if dialect == "draft-07" else "nfschema2"
    return {
        "main.nf": MAIN_NF,
        "nextflow_schema.json": fixture_json(f"{prefix}_schema.json"),
        "assets/schema_input.json": fixture_json(f"{prefix}_schema_input.json"),
    }


@pytest.fixture
def repo_dir(tmp_path_factory) -> Path:
    """Where test repositories live: outside the server's data_dir (tmp_path), whose
    folders the server refuses as repositories."""
    return tmp_path_factory.mktemp("repos")


@pytest.fixture
def rnaseq_repo(repo_dir) -> Repo:
    """An nf-core-style pipeline at tag 1.0.0 on main."""
    repo = Repo(repo_dir / "rnaseq")
    repo.commit(nf_core_files(), "first release")
    repo.tag("1.0.0")
    return repo


@pytest.fixture
def nfschema_repo(repo_dir) -> Repo:
    repo = Repo(repo_dir / "demo")
    repo.commit(nf_core_files("2020-12"), "first")
    return repo
