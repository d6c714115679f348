"""Uploads: the server plans parts, clients PUT them straight to presigned URLs (S3 or the
local store), and `complete` verifies every file before the dataset exists.

Part size is chosen once per upload: at least 8 MiB and large enough that the biggest file
needs no more than 10,000 parts (S3's limit). A file that fits in one part is a single PUT.
An upload survives interruption: `status` lists the parts already stored, and the client
sends only the rest. Nothing becomes visible in the catalog until `complete` succeeds.

Multipart files are checked with CRC32 per part (S3's `ChecksumAlgorithm=CRC32`): the client
sends each part's CRC32 with its URL request, the URL is signed with it, and storage refuses a
part whose bytes do not match. Completion then composes the part checksums instead of
reading the whole object again.

A URL handed out for an upload must not outlive it: once completed, the dataset's bytes may
change only through a new version. Multipart part URLs die with their multipart upload (S3 and
the local store both forget the upload id on complete and abort). A single-PUT URL cannot be
revoked on S3 (it is valid until it expires), so it is create-only: signed with
`If-None-Match: *` (the local store signs the same rule into its URL), it can create the
file's object but never replace it. After completion a stale URL gets 412 and the dataset's
bytes stay as verified. After abort the upload's objects are deleted, so a stale URL could
create an object again: garbage under the aborted upload's prefix that no dataset references,
not harm. A retried PUT whose first try was stored also gets 412; the client counts that as
stored, and completion checks every file's size (and CRC32) from the listing regardless.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.datasets import Datasets
from mantle.catalog.service import Catalog
from mantle.checksums import CRC32, CRC32_HEADER, check_crc32, combined_crc32, crc32_label
from mantle.db.models import SqlUpload, SqlUploadFile
from mantle.errors import ConflictError, InvalidInputError, NotFoundError
from mantle.schemas.catalog import ActivityKind, DatasetCreate, DatasetPublic, FileRef, Origin
from mantle.schemas.uploads import (
    PartPublic,
    PartRef,
    PartUrls,
    PartUrlsBatch,
    SignedPart,
    UploadComplete,
    UploadCreate,
    UploadFilePublic,
    UploadPublic,
)
from mantle.storage import ObjectInfo, ObjectStore, PartInfo, validate_key

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MIN_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
URL_EXPIRES_IN = 3600
CREATE_ONLY_HEADERS = {"If-None-Match": "*"}  # what a single PUT must send (S3 signs it)


class UploadStatus:
    open = "open"
    completed = "completed"
    aborted = "aborted"


def plan_part_size(largest_file: int) -> int:
    needed = math.ceil(largest_file / MAX_PARTS)
    return max(MIN_PART_SIZE, math.ceil(needed / MiB) * MiB)


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def expected_part_size(size: int, part_size: int, part_number: int) -> int:
    count = part_count(size, part_size)
    return part_size if part_number < count else size - part_size * (count - 1)


# --- starting and inspecting ---------------------------------------------------------------


def start(
    session: Session,
    access: TenantAccess,
    data: UploadCreate,
    store: ObjectStore,
    datasets: Datasets,
) -> SqlUpload:
    """Open an upload; `store` is the tenant's scoped store. The dataset it will become is
    checked now (type, properties), so a mistake costs no transfer."""
    names = [validate_key(f.name) for f in data.files]
    check_names(names, store.max_key_bytes - len(upload_key(uuid.UUID(int=0), "")))
    size = plan_part_size(max(f.size for f in data.files))
    upload = SqlUpload(
        tenant_id=access.tenant_id,
        status=UploadStatus.open,
        dataset=data.model_dump(mode="json", exclude={"files"}),
        part_size=size,
        created_by=access.principal.email,
    )
    session.add(upload)
    session.flush()
    for position, (spec, name) in enumerate(zip(data.files, names, strict=True)):
        key = upload_key(upload.id, name)
        count = part_count(spec.size, size)
        checksum = CRC32 if count > 1 else None
        multipart_id = store.create_multipart(key, checksum=checksum) if count > 1 else None
        session.add(
            SqlUploadFile(
                upload_id=upload.id,
                position=position,
                name=name,
                key=key,
                size=spec.size,
                part_count=count,
                multipart_id=multipart_id,
                checksum=checksum,
            )
        )
    session.flush()
    session.refresh(upload)
    datasets.check_create(session, access, _dataset_create(upload, store, upload.dataset))
    return upload


def upload_key(upload_id: uuid.UUID, name: str) -> str:
    return f"uploads/{upload_id}/{name}"


def check_names(names: list[str], max_bytes: int) -> None:
    """Refuse names no store could ever complete: repeated, longer than a key may be under
    the upload's prefix (`max_bytes`), or both a file and a folder (`a` beside `a/b`)."""
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise InvalidInputError(f"file names must be unique; repeated: {', '.join(duplicates)}")
    for name in names:
        size = len(name.encode())
        if size > max_bytes:
            raise InvalidInputError(
                f"file {_shown(name)} has a {size}-byte name; names in an upload may have at "
                f"most {max_bytes} (storage keys are limited to 1024 bytes with their prefix)"
            )
    files = set(names)
    for name in names:
        parts = name.split("/")
        for end in range(1, len(parts)):
            folder = "/".join(parts[:end])
            if folder in files:
                raise InvalidInputError(
                    f"file {_shown(folder)} is also the folder of {_shown(name)}: a name "
                    "cannot be both a file and a folder"
                )


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 80 else repr(name[:77] + "...")


def get(session: Session, access: TenantAccess, upload_id: uuid.UUID) -> SqlUpload:
    upload = session.scalar(
        select(SqlUpload).where(SqlUpload.tenant_id == access.tenant_id, SqlUpload.id == upload_id)
    )
    if upload is None:
        raise NotFoundError("upload not found")
    return upload


def _open(session: Session, access: TenantAccess, upload_id: uuid.UUID) -> SqlUpload:
    upload = get(session, access, upload_id)
    if upload.status != UploadStatus.open:
        raise ConflictError(f"the upload is {upload.status}")
    return upload


def _is_single_put(file: SqlUploadFile) -> bool:
    return file.part_count == 1


def _whole_objects(store: ObjectStore, upload: SqlUpload) -> dict[str, ObjectInfo]:
    """The upload's single-PUT files that storage holds, by key: one LIST per 1000 files
    rather than a HEAD per file (a folder of small files is mostly single PUTs)."""
    if not any(f.etag is None and _is_single_put(f) for f in upload.files):
        return {}
    found: dict[str, ObjectInfo] = {}
    cursor = None
    while True:
        page = store.list(upload_key(upload.id, ""), cursor=cursor)
        found.update((o.key, o) for o in page.objects)
        cursor = page.next_cursor
        if cursor is None:
            return found


def _stored_parts(
    store: ObjectStore, upload: SqlUpload, file: SqlUploadFile, whole: dict[str, ObjectInfo]
) -> list[PartInfo]:
    if file.etag is not None:
        return []
    if file.multipart_id is not None:
        return store.list_parts(file.key, file.multipart_id)
    info = whole.get(file.key)
    return [] if info is None else [PartInfo(part_number=1, size=info.size, etag=info.etag)]


def public(upload: SqlUpload, store: ObjectStore | None = None) -> UploadPublic:
    """The upload as the API shows it; with `store`, each file lists the parts it has."""
    files = []
    listing = store is not None and upload.status == "open"
    whole = _whole_objects(store, upload) if listing else {}
    for file in upload.files:
        parts = _stored_parts(store, upload, file, whole) if listing else []
        files.append(
            UploadFilePublic(
                id=file.id,
                name=file.name,
                size=file.size,
                part_count=file.part_count,
                multipart=file.part_count > 1,
                checksum=file.checksum,
                done=file.etag is not None,
                parts=[
                    PartPublic(part_number=p.part_number, size=p.size, etag=p.etag, crc32=p.crc32)
                    for p in parts
                ],
            )
        )
    return UploadPublic(
        id=upload.id,
        status=upload.status,
        name=upload.dataset["name"],
        data_type=upload.dataset["data_type"],
        part_size=upload.part_size,
        files=files,
        dataset_id=upload.dataset_id,
        created_at=upload.created_at,
    )


def part_urls(
    session: Session,
    access: TenantAccess,
    store: ObjectStore,
    upload_id: uuid.UUID,
    file_id: uuid.UUID,
    part_numbers: list[int],
    crc32: dict[int, str] | None = None,
) -> PartUrls:
    """Presigned URLs for parts of one file; each signed with the part's CRC32 when given
    (required for files uploaded with CRC32 checks)."""
    upload = _open(session, access, upload_id)
    file = _file(upload, file_id)
    urls, headers = _sign(store, upload, file, part_numbers, crc32 or {})
    return PartUrls(file_id=file.id, urls=urls, headers=headers, expires_in=URL_EXPIRES_IN)


def part_urls_batch(
    session: Session,
    access: TenantAccess,
    store: ObjectStore,
    upload_id: uuid.UUID,
    parts: list[PartRef],
) -> PartUrlsBatch:
    """Presigned URLs for parts of any files of the upload, in one call (a folder of many
    small files would otherwise cost a request per file)."""
    upload = _open(session, access, upload_id)
    wanted: dict[uuid.UUID, dict[int, str | None]] = {}
    for part in parts:
        wanted.setdefault(part.file_id, {})[part.part_number] = part.crc32
    signed = []
    for file_id, numbers in wanted.items():
        file = _file(upload, file_id)
        crc32 = {n: c for n, c in numbers.items() if c is not None}
        urls, headers = _sign(store, upload, file, list(numbers), crc32)
        signed += [
            SignedPart(file_id=file.id, part_number=n, url=url, headers=headers.get(n, {}))
            for n, url in urls.items()
        ]
    return PartUrlsBatch(parts=signed, expires_in=URL_EXPIRES_IN)


def _sign(
    store: ObjectStore,
    upload: SqlUpload,
    file: SqlUploadFile,
    numbers: list[int],
    crc32: dict[int, str],
):
    """({part: URL}, {part: headers to send}) for parts of one file."""
    bad = [n for n in numbers if not 1 <= n <= file.part_count]
    if bad:
        raise InvalidInputError(
            f"{file.name} has parts 1 to {file.part_count}; asked for {bad[:5]}"
        )
    crc32 = {n: check_crc32(c, f"crc32 of part {n}") for n, c in crc32.items()}
    missing = [n for n in numbers if n not in crc32]
    if file.checksum == CRC32 and missing:
        raise InvalidInputError(
            f"{file.name} is checked with CRC32: send each part's CRC32 (base64) with its URL "
            f"request; missing for part(s) {missing[:5]}",
            details={"missing_crc32": missing[:100]},
        )
    if _is_single_put(file):
        url = store.presign_put(
            file.key, expires_in=URL_EXPIRES_IN, crc32=crc32.get(1), create_only=True
        )
        return {1: url}, {1: CREATE_ONLY_HEADERS | _crc32_header(crc32, 1)}
    urls = {
        n: store.presign_part(
            file.key, file.multipart_id, n, expires_in=URL_EXPIRES_IN, crc32=crc32.get(n)
        )
        for n in numbers
    }
    return urls, {n: _crc32_header(crc32, n) for n in urls if n in crc32}


def _crc32_header(crc32: dict[int, str], part_number: int) -> dict[str, str]:
    # S3 signs these as headers (SigV4); the file store reads the same rules from its URL and
    # ignores the headers. Either way the client sends exactly the headers returned.
    return {CRC32_HEADER: crc32[part_number]} if part_number in crc32 else {}


def _file(upload: SqlUpload, file_id: uuid.UUID) -> SqlUploadFile:
    file = next((f for f in upload.files if f.id == file_id), None)
    if file is None:
        raise NotFoundError("no such file in this upload")
    return file


# --- completing and aborting ---------------------------------------------------------------


def _problems(
    file: SqlUploadFile,
    part_size: int,
    parts: list[PartInfo],
    md5: dict[int, str],
    crc32: dict[int, str],
) -> list[str]:
    """What is wrong with a file's stored parts, as messages a user can act on."""
    have = {p.part_number: p for p in parts}
    missing = [n for n in range(1, file.part_count + 1) if n not in have]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        return [f"{file.name}: part(s) {shown} not uploaded"]
    found = []
    for n in range(1, file.part_count + 1):
        expected = expected_part_size(file.size, part_size, n)
        if have[n].size != expected:
            found.append(f"{file.name}: part {n} has {have[n].size} bytes, expected {expected}")
        if n in md5 and md5[n].lower() != have[n].etag.lower():
            found.append(f"{file.name}: part {n} checksum does not match; upload it again")
        stored_crc = have[n].crc32
        if n in crc32 and stored_crc is not None and crc32[n] != stored_crc:
            found.append(f"{file.name}: part {n} CRC32 does not match; upload it again")
    extra = sorted(set(have) - set(range(1, file.part_count + 1)))
    if extra:
        found.append(f"{file.name}: unexpected part(s) {extra[:5]}")
    return found


def verify(upload: SqlUpload, data: UploadComplete, stored: dict[uuid.UUID, list[PartInfo]]):
    """Refuse to complete while any file's stored parts (`stored`, by file id) are missing,
    of the wrong size, or differ from the checksums the client sent."""
    problems = []
    for file in upload.files:
        if file.etag is None:
            problems += _problems(
                file, upload.part_size, stored[file.id], data.md5.get(file.id, {}),
                data.crc32.get(file.id, {}),
            )  # fmt: skip
    if problems:
        raise InvalidInputError(
            "the upload is not complete: " + "; ".join(problems[:20]),
            details={"problems": problems},
        )


def finish_files(
    upload: SqlUpload,
    store: ObjectStore,
    data: UploadComplete,
    stored: dict[uuid.UUID, list[PartInfo]],
) -> dict[uuid.UUID, str]:
    """Finish every file `verify` checked: multipart files are assembled, single-PUT files are
    already at their key. Records each file's ETag and returns the whole-file CRC32 of each
    file whose every part's CRC32 is known."""
    pending = [f for f in upload.files if f.etag is None]
    whole_crc32 = {}
    for file in pending:
        parts = stored[file.id]
        known = _known_part_crc32(file, data, parts)
        if _is_single_put(file):
            file.etag = parts[0].etag  # `verify` checked its size in the listing
        else:
            info = _assemble(store, file, parts, known)
            file.multipart_id = None
            if info.size != file.size:
                raise InvalidInputError(
                    f"{file.name}: stored {info.size} bytes, expected {file.size}"
                )
            file.etag = info.etag
        if len(known) == file.part_count:
            whole_crc32[file.id] = combined_crc32(
                [
                    (known[n], expected_part_size(file.size, upload.part_size, n))
                    for n in sorted(known)
                ]
            )
    return whole_crc32


def _known_part_crc32(
    file: SqlUploadFile, data: UploadComplete, parts: list[PartInfo]
) -> dict[int, str]:
    """The part CRC32s as storage reports them (S3 does), else as the client sent them
    (storage refused any part whose bytes differ from the CRC32 its URL was signed with)."""
    reported = {p.part_number: p.crc32 for p in parts if p.crc32}
    known = {**data.crc32.get(file.id, {}), **reported}
    return {n: c for n, c in known.items() if n <= file.part_count}


def _assemble(
    store: ObjectStore, file: SqlUploadFile, parts: list[PartInfo], known: dict[int, str]
) -> ObjectInfo:
    # Files started without checksums pass on only what storage itself reported.
    reported = {p.part_number for p in parts if p.crc32}
    crc32 = known if file.checksum == CRC32 else {n: c for n, c in known.items() if n in reported}
    return store.complete_multipart(
        file.key, file.multipart_id, [(p.part_number, p.etag) for p in parts], crc32=crc32
    )


def abort(session: Session, access: TenantAccess, store: ObjectStore, upload_id: uuid.UUID):
    upload = _open(session, access, upload_id)
    for file in upload.files:
        if file.multipart_id is not None:
            store.abort_multipart(file.key, file.multipart_id)
        store.delete(file.key)
    upload.status = UploadStatus.aborted
    upload.updated_at = datetime.now(UTC)
    return upload


def complete(
    session: Session,
    access: TenantAccess,
    store: ObjectStore,
    catalog: Catalog,
    upload_id: uuid.UUID,
    data: UploadComplete,
) -> DatasetPublic:
    """Verify every file, assemble multipart files, then create the dataset. A failed check
    leaves the upload open (fix the part, complete again) and no dataset behind."""
    upload = _open(session, access, upload_id)
    spec = upload.dataset
    candidate = _dataset_create(upload, store, spec)
    catalog.datasets.check_create(session, access, candidate)  # nothing assembled if wrong
    # Listed once, then checked and assembled from the same listing.
    whole = _whole_objects(store, upload)
    stored = {f.id: _stored_parts(store, upload, f, whole) for f in upload.files if f.etag is None}
    verify(upload, data, stored)
    whole_crc32 = finish_files(upload, store, data, stored)
    created = _dataset_create(upload, store, spec, whole_crc32)
    dataset = catalog.datasets.create(session, access, created, origin=Origin.upload)
    catalog.lineage.record_activity(
        session, access, ActivityKind.upload, outputs=[dataset.id],
        details={"upload_id": str(upload.id), "files": len(upload.files)},
    )  # fmt: skip
    upload.status = UploadStatus.completed
    upload.dataset_id = dataset.id
    upload.updated_at = datetime.now(UTC)
    return dataset


def _dataset_create(
    upload: SqlUpload, store: ObjectStore, spec: dict, crc32: dict[uuid.UUID, str] | None = None
) -> DatasetCreate:
    """The dataset an upload becomes, its files with their CRC32 where known (`crc32`, by
    file id). File properties may name a file of the upload by its name
    (`read1: S1_R1.fastq.gz`); they are turned into that file's URI."""
    uris = {file.name: store.uri(file.key) for file in upload.files}
    properties = {
        name: uris.get(value, value) if isinstance(value, str) else value
        for name, value in spec.get("properties", {}).items()
    }
    return DatasetCreate(
        name=spec["name"],
        data_type=spec["data_type"],
        properties=properties,
        tags=spec.get("tags", []),
        files=[
            FileRef(
                uri=uris[file.name],
                name=file.name,
                size=file.size,
                etag=file.etag,
                checksum=crc32_label(crc32[file.id]) if file.id in (crc32 or {}) else None,
            )  # fmt: skip
            for file in upload.files
        ],
    )
