"""The outputs manifest (`outputs.json`): every file under the run's `outputs/`, with its size
and SHA-256, written last; its presence tells the monitor the engine has ended.

Checksums are computed by streaming each object from the run directory's store, so what is
listed is what the platform will ingest (Nextflow publishes straight to an S3 outdir). Files
a script wrote locally for an S3 run directory are hashed while they are uploaded instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from mantle.launcher.run_directory import sha256_of_chunks
from mantle.rundir import OUTPUTS_DIR, OUTPUTS_JSON, OutputFile, OutputsManifest, dumps
from mantle.storage import ObjectStore
from mantle.storage.base import CHUNK_SIZE


def list_outputs(store: ObjectStore) -> list[OutputFile]:
    """Every object under `outputs/` of the run directory, sorted by path."""
    files: list[OutputFile] = []
    cursor = None
    while True:
        page = store.list(OUTPUTS_DIR, cursor=cursor)
        for info in page.objects:
            checksum, size = sha256_of_chunks(store.get(info.key))
            files.append(
                OutputFile(path=info.key.removeprefix(OUTPUTS_DIR), size=size, checksum=checksum)
            )
        cursor = page.next_cursor
        if cursor is None:
            return sorted(files, key=lambda f: f.path)


def upload_folder(folder: Path, store: ObjectStore) -> list[OutputFile]:
    """Upload every file under `folder` to `outputs/...`, hashing each on the way."""
    uploaded = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            info = store.put(OUTPUTS_DIR + relative, _hashing(handle, digest))
        uploaded.append(
            OutputFile(path=relative, size=info.size, checksum=f"sha256:{digest.hexdigest()}")
        )
    return uploaded


def _hashing(handle, digest) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
        yield chunk


def write_manifest(
    store: ObjectStore,
    run_id: str,
    exit_code: int,
    files: list[OutputFile],
    *,
    session_id: str = "",
) -> None:
    """Replace any manifest of an earlier attempt in one step (both stores' puts are atomic:
    readers see the old manifest or the new one, never a mix)."""
    manifest = OutputsManifest(
        run_id=run_id, exit_code=exit_code, files=files, session_id=session_id
    )
    store.put(OUTPUTS_JSON, dumps(manifest), content_type="application/json")
