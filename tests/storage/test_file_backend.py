"""What only the file backend has: symlinks, its hidden `.mantle/` area, atomic writes, and
upload ids that are paths on disk."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from mantle.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    PreconditionFailedError,
    StorageError,
)
from mantle.storage import FileObjectStore, StoreOptions, open_object_store
from tests.storage.helpers import attempt_everything


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def store(root: Path) -> FileObjectStore:
    return FileObjectStore(root)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"top secret")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# -- symlinks ------------------------------------------------------------------------------


def test_symlinked_folder_cannot_be_used_to_escape(store, root, outside) -> None:
    (root / "link").symlink_to(outside, target_is_directory=True)
    store.put("safe", b"safe")
    before = snapshot(outside)
    for key in ["link/secret.txt", "link/new.txt", "link/sub/new.txt"]:
        assert attempt_everything(store, key) == [], key
    with pytest.raises(InvalidKeyError, match="outside"):
        store.list("link/")
    assert snapshot(outside) == before
    assert not (outside / "sub").exists()


def test_symlinked_file_pointing_outside_is_refused(store, root, outside) -> None:
    (root / "evil").symlink_to(outside / "secret.txt")
    (root / "passwd").symlink_to("/etc/passwd")
    for key in ["evil", "passwd"]:
        with pytest.raises(InvalidKeyError):
            store.get(key)
        with pytest.raises(InvalidKeyError):
            store.delete(key)
        with pytest.raises(InvalidKeyError):
            store.put(key, b"overwrite")
    assert (outside / "secret.txt").read_bytes() == b"top secret"
    assert [o.key for o in store.list().objects] == []  # never listed either


def test_symlink_inside_the_root_still_works(store, root) -> None:
    store.put("real/data.txt", b"shared")
    (root / "alias.txt").symlink_to(root / "real" / "data.txt")
    assert b"".join(store.get("alias.txt")) == b"shared"
    assert [o.key for o in store.list().objects] == ["alias.txt", "real/data.txt"]


def test_symlink_into_the_internal_area_is_refused(store, root) -> None:
    (root / "peek").symlink_to(root / ".mantle", target_is_directory=True)
    with pytest.raises(InvalidKeyError):
        store.list("peek/")
    with pytest.raises(InvalidKeyError):
        store.put("peek/meta/x", b"x")


def test_root_reached_through_a_symlink_is_fine(tmp_path) -> None:
    (tmp_path / "real-root").mkdir()
    (tmp_path / "root-link").symlink_to(tmp_path / "real-root", target_is_directory=True)
    store = FileObjectStore(tmp_path / "root-link")
    store.put("a/b", b"ok")
    assert (tmp_path / "real-root" / "a" / "b").read_bytes() == b"ok"


# -- the hidden area -----------------------------------------------------------------------


def test_internal_area_is_reserved_and_hidden(store, root) -> None:
    store.put("safe", b"safe")
    upload_id = store.create_multipart("pending.bin")
    store.upload_part("pending.bin", upload_id, 1, b"part")
    assert (root / ".mantle" / "meta").exists()
    assert [o.key for o in store.list().objects] == ["safe"]
    assert store.list(".man").objects == []
    assert store.list(delimiter="/").common_prefixes == []
    for key in [".mantle/meta/x", ".mantle", f".mantle/uploads/{upload_id}/00001"]:
        assert attempt_everything(store, key) == [], key
    with pytest.raises(InvalidKeyError, match="reserved"):
        store.list(".mantle/")
    # Only the top level is reserved: a scoped folder may use the name.
    store.put("tenants/a/.mantle/ok", b"fine")
    assert store.exists("tenants/a/.mantle/ok")


def test_content_type_is_kept_in_metadata_not_in_the_data_file(store, root) -> None:
    store.put("data.csv", b"a,b", content_type="text/csv")
    assert (root / "data.csv").read_bytes() == b"a,b"
    metas = [json.loads(p.read_text()) for p in (root / ".mantle" / "meta").rglob("*.json")]
    assert [(m["key"], m["content_type"]) for m in metas] == [("data.csv", "text/csv")]
    store.delete("data.csv")
    assert list((root / ".mantle" / "meta").rglob("*.json")) == []


def test_file_changed_outside_mantle_gets_a_fresh_etag(store, root) -> None:
    store.put("edited.txt", b"original", content_type="text/plain")
    (root / "edited.txt").unlink()
    (root / "edited.txt").write_bytes(b"edited by hand")
    head = store.head("edited.txt")
    assert head.etag == hashlib.md5(b"edited by hand").hexdigest()
    assert head.content_type is None  # the stored metadata belonged to the old file


def test_files_placed_by_hand_are_objects(store, root) -> None:
    (root / "dropped").mkdir(parents=True)
    (root / "dropped" / "in.txt").write_bytes(b"hand made")
    (root / "dropped" / "bad\\name").write_bytes(b"unaddressable")
    assert [o.key for o in store.list().objects] == ["dropped/in.txt"]
    assert store.head("dropped/in.txt").etag == hashlib.md5(b"hand made").hexdigest()


# -- atomic writes -------------------------------------------------------------------------


def test_failed_write_keeps_the_old_object_and_leaves_no_temp_file(store, root) -> None:
    store.put("doc.txt", b"version 1")

    def broken_stream():
        yield b"version 2 starts"
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        store.put("doc.txt", broken_stream())
    assert b"".join(store.get("doc.txt")) == b"version 1"
    assert store.head("doc.txt").etag == hashlib.md5(b"version 1").hexdigest()
    assert list((root / ".mantle" / "tmp").iterdir()) == []


def test_delete_prunes_empty_folders(store, root) -> None:
    store.put("a/b/c/d.txt", b"x")
    store.put("a/keep.txt", b"y")
    store.delete("a/b/c/d.txt")
    assert not (root / "a" / "b").exists()
    assert (root / "a" / "keep.txt").exists()


def test_object_and_folder_at_the_same_path_conflict(store) -> None:
    store.put("a/b", b"x")
    with pytest.raises(ConflictError):
        store.put("a", b"y")
    with pytest.raises(ConflictError):
        store.put("a/b/c", b"z")
    assert b"".join(store.get("a/b")) == b"x"
    with pytest.raises(NotFoundError):
        store.head("a")  # a folder is not an object


def test_segment_too_long_for_the_file_system(store) -> None:
    with pytest.raises(InvalidKeyError, match="too long"):
        store.put("x" * 300, b"x")


def test_foreign_cursor_is_refused(store) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        store.list(cursor="not a cursor!")


# -- multipart staging ---------------------------------------------------------------------


def test_upload_id_is_bound_to_its_key(store) -> None:
    upload_id = store.create_multipart("mine.bin")
    etag = store.upload_part("mine.bin", upload_id, 1, b"x")
    with pytest.raises(NotFoundError):
        store.upload_part("theirs.bin", upload_id, 1, b"x")
    with pytest.raises(NotFoundError):
        store.list_parts("theirs.bin", upload_id)
    with pytest.raises(NotFoundError):
        store.complete_multipart("theirs.bin", upload_id, [(1, etag)])
    store.abort_multipart("theirs.bin", upload_id)  # no effect on someone else's upload
    assert [p.part_number for p in store.list_parts("mine.bin", upload_id)] == [1]
    assert not store.exists("theirs.bin")


def test_scoped_tenant_cannot_use_another_tenants_upload(store) -> None:
    upload_id = store.scoped("tenants/b/").create_multipart("big.bin")
    tenant_a = store.scoped("tenants/a/")
    with pytest.raises(NotFoundError):
        tenant_a.upload_part("big.bin", upload_id, 1, b"x")
    with pytest.raises(NotFoundError):
        tenant_a.list_parts("big.bin", upload_id)


@pytest.mark.parametrize("upload_id", ["../../../etc", "..", "0" * 32, "ABC", "a/b"])
def test_forged_upload_ids_are_unknown(store, root, upload_id) -> None:
    with pytest.raises(NotFoundError):
        store.upload_part("k", upload_id, 1, b"x")
    with pytest.raises(NotFoundError):
        store.list_parts("k", upload_id)
    with pytest.raises(NotFoundError):
        store.complete_multipart("k", upload_id, [(1, "0" * 32)])
    store.abort_multipart("k", upload_id)
    assert snapshot(root) == {}


def test_complete_after_abort_is_not_found(store) -> None:
    upload_id = store.create_multipart("gone.bin")
    etag = store.upload_part("gone.bin", upload_id, 1, b"x")
    store.abort_multipart("gone.bin", upload_id)
    with pytest.raises(NotFoundError):
        store.complete_multipart("gone.bin", upload_id, [(1, etag)])
    with pytest.raises(NotFoundError):
        store.upload_part("gone.bin", upload_id, 2, b"y")


def test_completed_upload_removes_its_staging(store, root) -> None:
    upload_id = store.create_multipart("done.bin")
    etag = store.upload_part("done.bin", upload_id, 1, b"x")
    store.complete_multipart("done.bin", upload_id, [(1, etag)])
    assert list((root / ".mantle" / "uploads").iterdir()) == []
    with pytest.raises(NotFoundError):
        store.list_parts("done.bin", upload_id)


# -- construction --------------------------------------------------------------------------


def test_presigning_needs_a_signer(store) -> None:
    with pytest.raises(ConfigurationError):
        store.presign_get("x")


def test_from_uri(tmp_path) -> None:
    folder = tmp_path / "with space"
    store = open_object_store(folder.as_uri(), options=StoreOptions())
    assert isinstance(store, FileObjectStore)
    assert store.root == folder.resolve()
    assert store.signer is None
    signed = open_object_store(
        folder.as_uri(),
        options=StoreOptions(signing_key="k" * 32, public_url="http://example.test"),
    )
    assert signed.presign_get("a").startswith("http://example.test/storage/o/a?")
    for bad in ["file://otherhost/x", "file:relative/path"]:
        with pytest.raises(InvalidInputError):
            open_object_store(bad, options=StoreOptions())


def test_unusable_root_is_a_storage_error(tmp_path) -> None:
    (tmp_path / "a-file").write_bytes(b"x")
    with pytest.raises(StorageError, match="root folder"):
        FileObjectStore(tmp_path / "a-file" / "root")


# -- file modes ------------------------------------------------------------------------------


def modes(root: Path) -> tuple[set[int], set[int]]:
    """The modes of the folders and of the files under `root` (itself included)."""
    folders, files = set(), set()
    for path in [root, *root.rglob("*")]:
        (folders if path.is_dir() else files).add(stat.S_IMODE(path.stat().st_mode))
    return folders, files


def test_everything_the_store_writes_is_private_whatever_the_umask(root) -> None:
    previous = os.umask(0)
    try:
        store = FileObjectStore(root / "objects")
        store.put("tenants/a/reads/s1.fq", b"ACGT", content_type="text/plain")
        upload_id = store.create_multipart("tenants/a/big.bin")
        etag = store.upload_part("tenants/a/big.bin", upload_id, 1, b"x")
        during_upload = modes(root)
        store.complete_multipart("tenants/a/big.bin", upload_id, [(1, etag)])
    finally:
        os.umask(previous)
    assert during_upload == modes(root) == ({0o700}, {0o600})


def test_put_new_never_replaces(store, root) -> None:
    """Create-only puts (signed PUTs with `create_only`): an object or a folder at the key
    refuses the write, and nothing of the refused body is left behind."""
    store.put_new("a/b.txt", iter([b"first"]))
    with pytest.raises(PreconditionFailedError):
        store.put_new("a/b.txt", iter([b"second"]))
    with pytest.raises(ConflictError, match="both an object and a folder"):
        store.put_new("a", iter([b"x"]))
    assert store.read_bytes("a/b.txt") == b"first"
    assert list((root / ".mantle" / "tmp").iterdir()) == []
