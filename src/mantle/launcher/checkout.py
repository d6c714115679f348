"""Checking the pipeline out at the exact commit the run was launched with.

The launcher never trusts a branch or tag name: the platform resolved the revision to a
commit at launch, and the job runs that commit or nothing. It first asks the remote for the
commit alone (a shallow fetch, which GitHub, GitLab and local repositories serve), and falls
back to fetching every branch and tag when the server refuses to hand out bare commits.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from mantle.launcher.logbook import Logbook
from mantle.urls import redact_credentials

_COMMIT = re.compile(r"[0-9a-f]{7,64}")
GIT_TIMEOUT_SECONDS = 600
_ALL_REFS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")


class CheckoutError(Exception):
    """The pipeline could not be checked out; the message says why, for the user."""


def checkout(repository: str, commit: str, dest: Path, log: Logbook) -> Path:
    """`dest` holding `repository` at `commit` (detached)."""
    if not repository:
        raise CheckoutError("the run names no pipeline repository to check out")
    if not _COMMIT.fullmatch(commit or ""):
        raise CheckoutError(f"the run's pipeline commit {commit!r} is not a commit id")
    source = _source(repository)
    log.info(f"checking out {redact_credentials(repository)} at {commit}")
    dest.mkdir(parents=True, exist_ok=True)
    _git(["init", "--quiet", str(dest)], cwd=dest)
    _git(["remote", "add", "origin", source], cwd=dest)
    if not _try_git(["fetch", "--quiet", "--depth", "1", "origin", commit], cwd=dest):
        _git(
            ["fetch", "--quiet", "origin", *_ALL_REFS],
            cwd=dest,
            what=f"could not fetch {redact_credentials(repository)}",
        )
    if not _try_git(["cat-file", "-e", f"{commit}^{{commit}}"], cwd=dest):
        raise CheckoutError(
            f"commit {commit} is not in {redact_credentials(repository)}: was it force-pushed away?"
        )
    _git(["checkout", "--quiet", "--detach", commit], cwd=dest)
    head = _git(["rev-parse", "HEAD"], cwd=dest).strip()
    if not head.startswith(commit):
        raise CheckoutError(f"checked out {head}, not the run's commit {commit}")
    return dest


def _source(repository: str) -> str:
    if repository.startswith("-"):
        raise CheckoutError(f"{repository!r} is not a repository URL")
    if "://" in repository or re.match(r"[\w.-]+@[\w.-]+:", repository):
        return repository
    path = Path(repository).expanduser()
    if not path.exists():
        raise CheckoutError(f"pipeline repository {repository} does not exist on this machine")
    return str(path.resolve())


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", LC_ALL="C")
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(  # noqa: S603
            ["git", *args],
            cwd=cwd,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as e:
        raise CheckoutError("git is not installed where the launcher runs") from e
    except subprocess.TimeoutExpired as e:
        raise CheckoutError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} s") from e


def _try_git(args: list[str], cwd: Path) -> bool:
    return _run(args, cwd).returncode == 0


def _git(args: list[str], cwd: Path, what: str | None = None) -> str:
    done = _run(args, cwd)
    if done.returncode != 0:
        detail = (
            redact_credentials(done.stderr.strip().splitlines()[-1]) if done.stderr.strip() else ""
        )
        raise CheckoutError(f"{what or 'git ' + args[0] + ' failed'}: {detail}".rstrip(": "))
    return done.stdout
