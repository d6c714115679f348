"""Pipeline repositories through the `git` command line: a URL plus a revision (tag, branch
or commit) resolved to the exact commit, and files read at that commit.

Repositories are kept as bare clones in a cache folder (the server's `data_dir/git-cache`),
one per URL (named by the URL's hash), fetched again when a revision is resolved, so a
registration after the first costs one fetch. Nothing is ever checked out: files are read
with `git cat-file` from the object database.

Users choose the URL, so it is checked before git sees it: only https, http, ssh (`ssh://`
and `user@host:path`), git, `file://` and local paths; no `transport::address` forms (`ext::`
runs a command, `fd::` reads a descriptor), nothing that starts with `-` (git would read it as
an option, e.g. `--upload-pack=...`), no control characters and no password in the URL
(it would be stored and shown). `GIT_ALLOW_PROTOCOL` enforces the same list inside git
(submodules, redirects), prompts are off and every call has a timeout.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mantle.errors import InvalidInputError
from mantle.urls import redact_credentials

DEFAULT_TIMEOUT = 120.0
MAX_FILE_BYTES = 2 * 1024 * 1024  # nf-core's largest nextflow_schema.json is ~60 KB
ALLOWED_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_MESSAGE_LINES = 3
_MESSAGE_CHARS = 400


def _local_path(url: str) -> Path | None:
    if url.startswith("/"):
        return Path(url)
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    return None


def check_url(url: str, *, allow_local: bool = True, forbidden_roots: Sequence[Path] = ()) -> str:
    """`url` stripped, or InvalidInputError saying why git will not be given it. A local
    path inside one of `forbidden_roots` (the server's data: other tenants' cached clones)
    is refused."""
    url = url.strip()
    if not url:
        raise InvalidInputError("repository: give a git URL (https://..., ssh, or file://...)")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInputError("repository: the URL has control characters")
    if url.startswith("-"):
        raise InvalidInputError("repository: a URL cannot start with '-'")
    if _TRANSPORT.match(url):
        raise InvalidInputError(
            "repository: 'transport::address' URLs (ext::, fd::) are not allowed; use "
            f"one of {', '.join(ALLOWED_SCHEMES)}"
        )
    if _SCP_LIKE.match(url):
        return url
    if url.startswith("/"):
        if not allow_local:
            raise InvalidInputError("repository: local repositories are not allowed here")
        _check_local(url, forbidden_roots)
        return url
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise InvalidInputError(
            f"repository: {url[:100]!r} is not a git URL this server accepts; use "
            f"one of {', '.join(s + '://' for s in ALLOWED_SCHEMES)}, user@host:path or "
            "an absolute path"
        )
    if parts.scheme == "file" and not allow_local:
        raise InvalidInputError("repository: local repositories are not allowed here")
    _check_local(url, forbidden_roots)
    if parts.password is not None:
        raise InvalidInputError(
            "repository: remove the password from the URL; it would be stored and shown"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise InvalidInputError(f"repository: {url[:100]!r} has no host")
    return url


def _check_local(url: str, forbidden_roots: Sequence[Path]) -> None:
    path = _local_path(url)
    if path is None:
        return
    resolved = path.resolve()
    for root in forbidden_roots:
        if resolved.is_relative_to(Path(root).resolve()):
            raise InvalidInputError("repository: that folder belongs to the Mantle server")


def check_revision(revision: str) -> str:
    revision = revision.strip()
    if not revision:
        raise InvalidInputError("revision: give a tag, a branch or a commit")
    bad = revision.startswith("-") or any(ord(c) <= 32 or ord(c) == 127 for c in revision)
    if bad or len(revision) > 255 or ":" in revision:
        raise InvalidInputError(f"revision: {revision[:80]!r} is not a tag, branch or commit")
    return revision


def _trimmed(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = " ".join(lines[-_MESSAGE_LINES:])
    text = redact_credentials(text)
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL=":".join(ALLOWED_SCHEMES),
        GIT_ASKPASS="true",  # never ask anyone for a password
        GIT_SSH_COMMAND=os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
        LC_ALL="C",
    )
    return env


class GitError(InvalidInputError):
    """git refused or failed; the message is git's own, trimmed and without passwords."""


def run_git(
    args: list[str], *, cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` with no shell, no prompts and a timeout; GitError when it fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s; try again later") from e
    except FileNotFoundError as e:
        raise GitError("git is not installed on the server") from e
    if done.returncode != 0:
        message = _trimmed(done.stderr.decode(errors="replace")) or f"exit code {done.returncode}"
        raise GitError(f"git {args[0]}: {message}")
    return done


class GitRepositories:
    """Bare clones of pipeline repositories under `cache_dir`, one per URL."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        allow_local: bool = True,
        forbidden_roots: Sequence[Path] = (),
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.allow_local = allow_local
        self.forbidden_roots = [Path(r) for r in forbidden_roots] or [self.cache_dir]

    def check(self, url: str) -> str:
        return check_url(url, allow_local=self.allow_local, forbidden_roots=self.forbidden_roots)

    def path_for(self, url: str) -> Path:
        return self.cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".git")

    def resolve(self, url: str, revision: str) -> str:
        """The full commit id `revision` names in `url` now (fetching it first)."""
        url, revision = self.check(url), check_revision(revision)
        with self._locked(url) as repo:
            if not (_COMMIT.match(revision) and self._commit_of(repo, revision)):
                self._update(url, repo)
            commit = self._commit_of(repo, revision)
        if commit is None:
            where = redact_credentials(url)[:200]
            raise GitError(f"revision {revision!r} is not a tag, branch or commit of {where}")
        return commit

    def read(self, url: str, commit: str, path: str) -> bytes | None:
        """The file at `path` in `commit`, or None when there is none (or it is a folder)."""
        url = self.check(url)
        if not _COMMIT.match(commit):
            raise InvalidInputError(f"commit {commit[:80]!r} is not a full commit id")
        if path.startswith(("/", "-")) or ".." in path.split("/"):
            raise InvalidInputError(f"path {path[:200]!r} is not a path inside the repository")
        spec = f"{commit}:{path}"
        with self._locked(url) as repo:
            if not repo.exists():
                self._update(url, repo)
            try:
                kind = run_git(["cat-file", "-t", spec], cwd=repo, timeout=self.timeout)
            except GitError:
                return None
            if kind.stdout.strip() != b"blob":
                return None
            size = int(run_git(["cat-file", "-s", spec], cwd=repo, timeout=self.timeout).stdout)
            if size > MAX_FILE_BYTES:
                raise InvalidInputError(
                    f"{path} is {size} bytes; files read from a pipeline repository are "
                    f"limited to {MAX_FILE_BYTES} bytes"
                )
            return run_git(["cat-file", "blob", spec], cwd=repo, timeout=self.timeout).stdout

    def _commit_of(self, repo: Path, revision: str) -> str | None:
        if not repo.exists():
            return None
        try:
            done = run_git(
                ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
                cwd=repo,
                timeout=self.timeout,
            )
        except GitError:
            return None
        return done.stdout.decode().strip() or None

    def _update(self, url: str, repo: Path) -> None:
        """Clone `url` into `repo` (through a temporary folder, so a failed clone leaves
        nothing behind) or fetch every branch and tag into the existing clone."""
        if repo.exists():
            run_git(
                [
                    "fetch", "--quiet", "--prune", "--force", "--", url,
                    "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
                ],
                cwd=repo,
                timeout=self.timeout,
            )  # fmt: skip
            return
        temp = Path(tempfile.mkdtemp(prefix=".clone-", dir=self.cache_dir))
        try:
            target = temp / "repo.git"
            run_git(
                ["clone", "--bare", "--quiet", "--no-hardlinks", "--", url, str(target)],
                timeout=self.timeout,
            )
            target.rename(repo)
        finally:
            shutil.rmtree(temp, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self, url: str) -> Iterator[Path]:
        """The clone's path, held under an exclusive file lock so that two registrations of
        the same repository (threads or worker processes) never fetch into it at once."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        repo = self.path_for(url)
        with open(repo.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield repo
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
