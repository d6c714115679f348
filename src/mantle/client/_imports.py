"""SDK imports: browse read buckets, preview and run imports, follow their progress."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import TypeAdapter

from mantle.client._resources import _Resource
from mantle.errors import MantleError
from mantle.schemas.imports import BucketListing, BucketPublic, ImportPreview, ImportPublic


class Imports(_Resource):
    def _path(self, tenant: str | None, suffix: str) -> str:
        return f"/api/v1/tenants/{self._tenant(tenant)}{suffix}"

    def buckets(self, *, environment: str | None = None, tenant: str | None = None):
        params = {"environment": environment} if environment else None
        data = self._http.request("GET", self._path(tenant, "/read-buckets"), params=params)
        return TypeAdapter(list[BucketPublic]).validate_python(data)

    def browse(
        self, bucket: str, *, prefix: str = "", cursor: str | None = None,
        environment: str | None = None, tenant: str | None = None,
    ) -> BucketListing:  # fmt: skip
        params = {k: v for k, v in {"prefix": prefix, "cursor": cursor,
                                    "environment": environment}.items() if v}  # fmt: skip
        path = self._path(tenant, f"/read-buckets/{bucket}/objects")
        return BucketListing.model_validate(self._http.request("GET", path, params=params))

    def preview(self, spec: dict[str, Any], *, limit: int = 50, tenant: str | None = None):
        path = self._path(tenant, "/imports/preview")
        data = self._http.request("POST", path, json=spec, params={"limit": limit})
        return ImportPreview.model_validate(data)

    def start(self, spec: dict[str, Any], *, tenant: str | None = None) -> ImportPublic:
        data = self._http.request("POST", self._path(tenant, "/imports"), json=spec)
        return ImportPublic.model_validate(data)

    def get(self, import_id: uuid.UUID | str, *, tenant: str | None = None) -> ImportPublic:
        data = self._http.request("GET", self._path(tenant, f"/imports/{import_id}"))
        return ImportPublic.model_validate(data)

    def list(self, *, tenant: str | None = None) -> list[ImportPublic]:
        data = self._http.request("GET", self._path(tenant, "/imports"))
        return TypeAdapter(list[ImportPublic]).validate_python(data)

    def cancel(self, import_id: uuid.UUID | str, *, tenant: str | None = None) -> ImportPublic:
        path = self._path(tenant, f"/imports/{import_id}/cancel")
        return ImportPublic.model_validate(self._http.request("POST", path))

    def wait(self, import_id, *, timeout: float = 3600, tenant: str | None = None):
        """Poll until the import ends; raises MantleError if it failed."""
        deadline = time.monotonic() + timeout
        job = self.get(import_id, tenant=tenant)
        while job.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = self.get(import_id, tenant=tenant)
        if job.status == "failed":
            raise MantleError(f"import failed: {job.error}")
        return job
