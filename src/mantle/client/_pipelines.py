"""SDK resource of the pipeline registry: register (add), list, show, versions, launch form."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from mantle.client._resources import _Resource
from mantle.schemas.pipelines import ParamsForm, PipelinePublic, PipelineVersionPublic


class Pipelines(_Resource):
    def _path(self, tenant: str | None, *parts: str) -> str:
        tail = [quote(str(p), safe="") for p in parts]
        return "/".join([f"/api/v1/tenants/{self._tenant(tenant)}/pipelines", *tail])

    def add(
        self,
        repository: str,
        *,
        revision: str = "main",
        name: str | None = None,
        description: str = "",
        output_rules: list[dict[str, Any]] | None = None,
        samplesheet: dict[str, Any] | None = None,
        tenant: str | None = None,
    ) -> PipelineVersionPublic:
        """Register `repository` (git URL or server-local path) at `revision`; an existing
        `name` gets a new version. Returns the version, with the commit it resolved to."""
        body: dict[str, Any] = {
            "repository": repository,
            "revision": revision,
            "name": name,
            "description": description,
        }
        if output_rules is not None:
            body["output_rules"] = output_rules
        if samplesheet is not None:
            body["samplesheet"] = samplesheet
        data = self._http.request("POST", self._path(tenant), json=body)
        return PipelineVersionPublic.model_validate(data)

    def list(self, *, tenant: str | None = None) -> list[PipelinePublic]:
        data = self._http.request("GET", self._path(tenant))
        return TypeAdapter(list[PipelinePublic]).validate_python(data)

    def get(self, ref: str, *, tenant: str | None = None) -> PipelinePublic:
        """A pipeline by name or id, with its latest version's revision and commit."""
        return PipelinePublic.model_validate(self._http.request("GET", self._path(tenant, ref)))

    def versions(self, ref: str, *, tenant: str | None = None) -> list[PipelineVersionPublic]:
        data = self._http.request("GET", self._path(tenant, ref, "versions"))
        return TypeAdapter(list[PipelineVersionPublic]).validate_python(data)

    def version(
        self, ref: str, version: int | None = None, *, tenant: str | None = None
    ) -> PipelineVersionPublic:
        """One version (the latest when `version` is None)."""
        if version is None:
            version = self.get(ref, tenant=tenant).latest_version
        data = self._http.request("GET", self._path(tenant, ref, "versions", str(version)))
        return PipelineVersionPublic.model_validate(data)

    def schema(
        self, ref: str, version: int | None = None, *, tenant: str | None = None
    ) -> ParamsForm:
        """The launch form: params in groups, the samplesheet param and its columns."""
        params = {"version": version} if version is not None else None
        data = self._http.request("GET", self._path(tenant, ref, "schema"), params=params)
        return ParamsForm.model_validate(data)
