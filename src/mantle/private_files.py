"""Files and folders only their owner can read: 0700 folders and 0600 files, whatever the
umask. The data directory (SQLite database, secret key, first-start password) and the local
object store are made with these, because they hold secrets and the team's data.

Modes are set when Mantle creates a file or folder; existing ones are left as they are (an
operator may have opened them to a group on purpose).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path | str) -> Path:
    """Create `path` and its missing parents as 0700 folders (`mkdir -p`, but private)."""
    path = Path(path)
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another thread or process: theirs to keep
        # mkdir's mode passes through the umask; chmod makes it exact.
        os.chmod(folder, PRIVATE_DIR_MODE)
    return path


def create_private_file(path: Path | str) -> bool:
    """Create an empty 0600 file at `path` unless something is there; True if created."""
    path = Path(path)
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return True


def write_private_file(path: Path | str, text: str, *, replace: bool = True) -> bool:
    """Write `text` to a 0600 file at `path`, atomically: readers see no file or all of it.

    With `replace=False` an existing file wins, also against a concurrent writer (the file
    is linked into place, which fails if the name exists); returns whether `text` was written.
    """
    path = Path(path)
    make_private_dir(path.parent)
    fd, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(staged, path)
            return True
        try:
            os.link(staged, path)
        except FileExistsError:
            return False
        return True
    finally:
        with suppress(FileNotFoundError):
            os.unlink(staged)
