"""SDK uploads and downloads: `client.uploads.upload(paths, data_type=...)` and
`client.uploads.download(dataset, to=...)`, parallel, resumable, with a progress callback."""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from mantle.client._resources import _Resource
from mantle.client._targets import plan_targets
from mantle.client._transfer import (
    URL_BATCH,
    LocalFile,
    PartUploader,
    Progress,
    ResumeState,
    collect_files,
    download_files,
    file_crc32,
)
from mantle.errors import ConflictError, InvalidInputError, NotFoundError
from mantle.schemas.catalog import DatasetPublic
from mantle.schemas.uploads import UploadPublic

CHECKSUM_THREADS = 2
LOOKAHEAD = 4  # parts signed ahead of the uploads, per upload thread


def _storage_client(parallel: int) -> httpx.Client:
    # Presigned URLs carry their own authorization: never send the Mantle token to storage.
    limits = httpx.Limits(max_connections=parallel * 2, max_keepalive_connections=parallel * 2)
    return httpx.Client(timeout=httpx.Timeout(300, connect=30), limits=limits)


class Uploads(_Resource):
    # Set by the Client to `Datasets.bind`: the new dataset comes back bound to the client.
    bind: Any = staticmethod(lambda data, _tenant=None: DatasetPublic.model_validate(data))

    def _path(self, tenant: str | None, suffix: str = "") -> str:
        return f"/api/v1/tenants/{self._tenant(tenant)}/uploads{suffix}"

    def upload(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        data_type: str,
        name: str | None = None,
        properties: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        parallel: int = 8,
        progress: Progress | None = None,
        resume_dir: Path | None = None,
        duplicate: bool = False,
        tenant: str | None = None,
        on_start: Any = None,
    ) -> DatasetPublic:
        """Upload files and directories as one new dataset. With `resume_dir`, an interrupted
        upload of the same files continues where it stopped. If a dataset of `data_type`
        already holds the same files (names, sizes and CRC32s), it is returned instead of
        uploading again, unless `duplicate`. `on_start(total_bytes, skipped)` is called once
        the plan is known."""
        files = collect_files(paths)
        state = ResumeState(resume_dir, f"{self._http.base_url}|{self._tenant(tenant)}", files)
        upload = self._resume(state, tenant)
        if upload is None and not duplicate:
            existing = self._same_content(files, data_type, tenant)
            if existing is not None:
                return existing
        upload = upload or self._start(files, data_type, name, properties, tags, tenant)
        state.save(str(upload.id))
        by_name = {f.name: f for f in files}
        todo, stored = self._parts(upload, by_name)
        if on_start:
            total = sum(f.size for f in files)
            on_start(total, total - sum(length for *_rest, length in todo))
        with _storage_client(parallel) as storage, ThreadPoolExecutor(parallel) as pool:
            sender = PartUploader(storage, progress)
            crc32 = self._send(upload, todo, sender, pool, parallel, tenant)
            # The server records each file's CRC32, composed from all of its parts' CRC32s.
            for file_id, local, n, offset, length in stored:
                crc32.setdefault(str(file_id), {})[n] = sender.checksum(local, offset, length)
        dataset = self.bind(
            self._http.request(
                "POST", self._path(tenant, f"/{upload.id}/complete"), json={"crc32": crc32}
            ),
            tenant,
        )
        state.clear()
        return dataset

    def find_uploaded(
        self, paths: Iterable[str | os.PathLike], *, data_type: str, tenant: str | None = None
    ) -> DatasetPublic | None:
        """The dataset of `data_type` (not archived) that already holds exactly these files:
        the same names, sizes and CRC32s. Reads every file once to checksum it."""
        return self._same_content(collect_files(paths), data_type, tenant)

    def _same_content(self, files: list[LocalFile], data_type: str, tenant: str | None):
        with ThreadPoolExecutor(CHECKSUM_THREADS) as pool:
            sums = list(pool.map(file_crc32, files))
        wanted = sorted((f.name, f.size, crc) for f, crc in zip(files, sums, strict=True))
        # Candidates share the largest file's checksum (an index lookup on the server).
        key = max(zip(files, sums, strict=True), key=lambda pair: pair[0].size)[1]
        path = f"/api/v1/tenants/{self._tenant(tenant)}/datasets"
        params: dict[str, Any] = {"type": data_type, "checksum": key, "limit": 100}
        while True:
            page = self._http.request("GET", path, params=params)
            for found in page["items"]:
                have = sorted((f["name"], f["size"], f["checksum"]) for f in found["files"])
                if have == wanted:
                    return self.bind(found, tenant)
            if page["next_cursor"] is None:
                return None
            params["cursor"] = page["next_cursor"]

    def _start(self, files, data_type, name, properties, tags, tenant) -> UploadPublic:
        body = {
            "name": name or (files[0].name.split("/")[0] if len(files) > 1 else files[0].name),
            "data_type": data_type,
            "properties": properties or {},
            "tags": tags or [],
            "files": [{"name": f.name, "size": f.size} for f in files],
        }
        return UploadPublic.model_validate(
            self._http.request("POST", self._path(tenant), json=body)
        )

    def _resume(self, state: ResumeState, tenant: str | None) -> UploadPublic | None:
        upload_id = state.load()
        if upload_id is None:
            return None
        try:
            upload = self.get(upload_id, tenant=tenant)
        except NotFoundError:
            return None
        return upload if upload.status == "open" else None

    def get(self, upload_id, *, tenant: str | None = None) -> UploadPublic:
        return UploadPublic.model_validate(
            self._http.request("GET", self._path(tenant, f"/{upload_id}"))
        )

    def abort(self, upload_id, *, tenant: str | None = None) -> UploadPublic:
        return UploadPublic.model_validate(
            self._http.request("DELETE", self._path(tenant, f"/{upload_id}"))
        )

    @staticmethod
    def _parts(upload: UploadPublic, by_name: dict[str, LocalFile]):
        """(missing, stored): (file id, local file, part number, offset, length) of every
        part still to send, and of those storage has from an earlier run."""
        missing, stored = [], []
        for file in upload.files:
            local = by_name.get(file.name)
            if local is None or local.size != file.size:
                raise ConflictError(f"{file.name} changed since the upload started; abort it")
            if file.done:
                continue
            have = {p.part_number for p in file.parts}
            for n in range(1, file.part_count + 1):
                offset = (n - 1) * upload.part_size
                part = (file.id, local, n, offset, min(upload.part_size, local.size - offset))
                (stored if n in have else missing).append(part)
        return missing, stored

    def _send(self, upload, todo, sender: PartUploader, pool, parallel, tenant) -> dict:
        """Send the `todo` parts; returns their CRC32s by file id and part number.

        Parts go in batches: their CRC32s are computed by two helper threads (zlib releases
        the GIL), their URLs fetched in one request (signed with those checksums), then the
        parts go to the pool. The first batch is small so uploading starts at once; later
        ones are larger (fewer requests to the server). Up to LOOKAHEAD parts per upload
        thread are signed ahead of the uploads, so the pool never waits for this loop."""
        crc32: dict[str, dict[int, str]] = {}
        if not todo:  # every part was stored by an earlier run: only `complete` is left
            return crc32
        in_flight: deque = deque()
        first, size = max(1, min(parallel, URL_BATCH)), max(1, min(LOOKAHEAD * parallel, URL_BATCH))
        starts = [0, *range(first, len(todo), size)]
        with ThreadPoolExecutor(CHECKSUM_THREADS) as checksums:
            try:
                for start, end in zip(starts, [*starts[1:], len(todo)], strict=True):
                    batch = todo[start:end]
                    computed = checksums.map(
                        lambda item: sender.checksum(item[1], item[3], item[4]), batch
                    )
                    keys = [(file_id, n) for file_id, _local, n, _off, _len in batch]
                    sums = dict(zip(keys, computed, strict=True))
                    urls = self._urls(upload.id, sums, tenant)
                    for file_id, local, n, off, length in batch:
                        url, headers = urls[(file_id, n)]
                        in_flight.append(
                            pool.submit(sender.put_part, url, headers, local, off, length)
                        )
                        crc32.setdefault(str(file_id), {})[n] = sums[(file_id, n)]
                    while len(in_flight) > size:
                        in_flight.popleft().result()
                while in_flight:
                    in_flight.popleft().result()
            except BaseException:
                # Stop promptly; what was stored is kept and a rerun resumes from there.
                for future in in_flight:
                    future.cancel()
                raise
        return crc32

    def _urls(self, upload_id, sums: dict[tuple, str], tenant) -> dict[tuple, tuple]:
        """(URL, headers) of each (file id, part number) in `sums` (-> its CRC32), whatever
        files they belong to, in one request."""
        answer = self._http.request(
            "POST",
            self._path(tenant, f"/{upload_id}/part-urls"),
            json={
                "parts": [
                    {"file_id": str(file_id), "part_number": n, "crc32": crc}
                    for (file_id, n), crc in sums.items()
                ]
            },
        )
        return {
            (uuid.UUID(p["file_id"]), p["part_number"]): (p["url"], p["headers"])
            for p in answer["parts"]
        }

    def download(
        self,
        dataset: str,
        *,
        to: str | os.PathLike = ".",
        overwrite: bool = False,
        parallel: int = 8,
        progress: Progress | None = None,
        tenant: str | None = None,
        on_start: Any = None,
    ) -> list[Path]:
        """Download a dataset's files under `to` (keeping their paths); returns the paths.
        Every name is checked first (see `_targets`): nothing is written if one is unsafe,
        or names a file that exists and `overwrite` is not set."""
        links = self._http.request(
            "GET", f"/api/v1/tenants/{self._tenant(tenant)}/datasets/{dataset}/download"
        )
        if not links:
            raise InvalidInputError(f"dataset {dataset} has no files")
        targets = plan_targets(to, [link["name"] for link in links], overwrite=overwrite)
        if on_start:
            on_start(sum(link["size"] or 0 for link in links), 0)
        report = progress or (lambda _n: None)
        items = [
            (link["url"], link["size"] or 0, target)
            for link, target in zip(links, targets, strict=True)
        ]
        root = Path(to).resolve()
        with _storage_client(parallel) as storage, ThreadPoolExecutor(parallel) as pool:
            download_files(storage, pool, root, items, report)
        return targets
