"""Where a download may write: the local path of each file of a dataset, checked before any
byte is fetched.

File names come from the server, and so from whoever made the dataset: a colleague
downloading it must not get `.git/config` or `.git/hooks/pre-commit` (code that runs on their
machine), a file outside the target folder, or an existing file silently replaced. Names are
refused if any segment is `..`, absolute, a drive letter, a backslash path, contains a
control character, or names a version-control or credentials folder (compared the way
Windows and macOS would: case-insensitively, trailing dots and spaces and NTFS streams
ignored). Existing symlinks inside the target are never followed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from mantle.errors import ConflictError, InvalidInputError

# Folders whose files are configuration or code that tools run on their own.
DANGEROUS_SEGMENTS = frozenset(
    {".git", ".hg", ".svn", ".bzr", ".ssh", ".gnupg", ".aws", ".githooks", ".husky"}
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(name: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"refusing to download {name[:200]!r}: {why}")


def check_name(name: str) -> list[str]:
    """The path segments of a dataset file's name, or InvalidInputError saying why it is
    unsafe to write."""
    if not isinstance(name, str) or not name:
        raise _refuse(str(name), "empty name")
    if _CONTROL.search(name):
        raise _refuse(name, "it contains a control character")
    if "\\" in name:
        raise _refuse(name, "it contains a backslash")
    if name.startswith("/") or _DRIVE.match(name):
        raise _refuse(name, "it is an absolute path")
    segments = name.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise _refuse(name, f"it has a {segment or 'empty'!r} path segment")
        # `.GIT`, `.git.` and `.git::$INDEX_ALLOCATION` all open `.git` on some system.
        plain = segment.split(":")[0].rstrip(". ").lower()
        if plain in DANGEROUS_SEGMENTS:
            raise _refuse(name, f"{segment!r} is a folder that tools run code or read keys from")
    return segments


def _inside(root: Path, segments: list[str], name: str) -> Path:
    """`root / segments`, refused if an existing part of the way is a symlink or not a
    folder (a symlink planted in the target could point anywhere)."""
    path = root
    for i, segment in enumerate(segments):
        path = path / segment
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise _refuse(name, f"{path} is a symbolic link; it is not followed")
        last = i == len(segments) - 1
        if not last and not stat.S_ISDIR(mode):
            raise _refuse(name, f"{path} exists and is not a folder")
        if last and not stat.S_ISREG(mode):
            raise _refuse(name, f"{path} exists and is not a regular file")
    return path


def plan_targets(root: str | os.PathLike, names: Iterable[str], *, overwrite: bool) -> list[Path]:
    """The local path of each name under `root`, in order. Refuses unsafe names, two names
    for one path (`a` beside `a/b`), and existing files unless `overwrite`."""
    base = Path(root).resolve()
    targets: list[Path] = []
    seen: dict[str, str] = {}
    folders: set[str] = set()
    for name in names:
        segments = check_name(name)
        key = "/".join(s.lower() for s in segments)  # one file on case-insensitive disks
        if key in seen or key in folders:
            raise _refuse(name, "another file of the dataset has the same path")
        parents = {"/".join(s.lower() for s in segments[:i]) for i in range(1, len(segments))}
        if any(parent in seen for parent in parents):
            raise _refuse(name, "another file of the dataset has a folder's path")
        seen[key] = name
        folders.update(parents)
        target = _inside(base, segments, name)
        if target.exists() and not overwrite:
            raise ConflictError(
                f"{target} already exists; pass --force (overwrite=True) to replace it",
                details={"path": str(target)},
            )
        targets.append(target)
    return targets


def make_parents(root: str | os.PathLike, target: Path) -> None:
    """Create the folders between `root` and `target`, never through a symlink."""
    base = Path(root).resolve()
    base.mkdir(parents=True, exist_ok=True)
    path = base
    for segment in target.relative_to(base).parts[:-1]:
        path = path / segment
        try:
            os.mkdir(path)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise _refuse(str(target), f"{path} is not a folder") from None
