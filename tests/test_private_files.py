"""Private files and folders: 0700 and 0600 whatever the umask; existing ones left alone."""

from __future__ import annotations

import os
import stat

import pytest

from mantle.private_files import create_private_file, make_private_dir, write_private_file


@pytest.fixture
def open_umask():
    """The most permissive umask: whatever is private here is private because Mantle says so."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_folders_and_their_missing_parents_are_private(tmp_path, open_umask):
    (tmp_path / "shared").mkdir(mode=0o755)
    make_private_dir(tmp_path / "shared" / "a" / "b")
    assert mode(tmp_path / "shared") == 0o755  # existing: not Mantle's to change
    assert mode(tmp_path / "shared" / "a") == mode(tmp_path / "shared" / "a" / "b") == 0o700


def test_files_are_private_and_written_whole(tmp_path, open_umask):
    path = tmp_path / "new" / "secret"
    assert write_private_file(path, "one")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert write_private_file(path, "two") and path.read_text() == "two"
    assert not write_private_file(path, "three", replace=False)
    assert path.read_text() == "two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]


def test_create_private_file_keeps_an_existing_file(tmp_path, open_umask):
    path = tmp_path / "db" / "mantle.db"
    assert create_private_file(path) and mode(path) == 0o600
    path.write_text("data")
    assert not create_private_file(path) and path.read_text() == "data"
