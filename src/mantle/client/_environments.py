"""SDK resource: a tenant's AWS environments, their setup kit, doctor and provisioner."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from mantle.client._resources import _Resource
from mantle.errors import NotFoundError
from mantle.schemas.environments import (
    DoctorReport,
    EnvironmentCreate,
    EnvironmentPublic,
    EnvironmentUpdate,
    KeyCredentials,
    ProvisionReport,
    ProvisionRequest,
    SetupKit,
    TenantAwsPublic,
)


def _body(data: BaseModel, *, only_set: bool = False) -> dict[str, Any]:
    body = data.model_dump(mode="json", exclude_unset=only_set)
    credentials = getattr(data, "credentials", None)
    if isinstance(credentials, KeyCredentials):
        # JSON dumps mask SecretStr; the server needs the real value (sent over the API only).
        body["credentials"]["secret_access_key"] = credentials.secret_access_key.get_secret_value()
        body["credentials"]["access_key_id"] = credentials.access_key_id
    return body


class Environments(_Resource):
    """`client.environments`: one tenant's environments (default: the client's tenant)."""

    def _path(self, tenant: str | None, *parts: str) -> str:
        return "/".join([f"/api/v1/tenants/{self._tenant(tenant)}/environments", *parts])

    def list(self, *, tenant: str | None = None) -> list[EnvironmentPublic]:
        data = self._http.request("GET", self._path(tenant))
        return TypeAdapter(list[EnvironmentPublic]).validate_python(data)

    def get(self, name: str, *, tenant: str | None = None) -> EnvironmentPublic:
        return EnvironmentPublic.model_validate(self._http.request("GET", self._path(tenant, name)))

    def default(self, *, tenant: str | None = None) -> EnvironmentPublic:
        for env in self.list(tenant=tenant):
            if env.is_default:
                return env
        raise NotFoundError("this tenant has no environment yet: create one first")

    def create(
        self, data: EnvironmentCreate | dict[str, Any], *, tenant: str | None = None
    ) -> EnvironmentPublic:
        data = EnvironmentCreate.model_validate(data)
        created = self._http.request("POST", self._path(tenant), json=_body(data))
        return EnvironmentPublic.model_validate(created)

    def update(
        self, name: str, data: EnvironmentUpdate | dict[str, Any], *, tenant: str | None = None
    ) -> EnvironmentPublic:
        data = EnvironmentUpdate.model_validate(data)
        body = _body(data, only_set=True)
        return EnvironmentPublic.model_validate(
            self._http.request("PATCH", self._path(tenant, name), json=body)
        )

    def delete(self, name: str, *, tenant: str | None = None) -> None:
        self._http.request("DELETE", self._path(tenant, name))

    def setup_kit(self, name: str, *, tenant: str | None = None) -> SetupKit:
        data = self._http.request("GET", self._path(tenant, name, "setup-kit"))
        return SetupKit.model_validate(data)

    def doctor(self, name: str, *, tenant: str | None = None) -> DoctorReport:
        data = self._http.request("POST", self._path(tenant, name, "doctor"))
        return DoctorReport.model_validate(data)

    def provision(
        self,
        name: str,
        *,
        dry_run: bool = False,
        subnet_ids: list[str] | None = None,
        security_group_ids: list[str] | None = None,
        max_vcpus: int | None = None,
        docker_volume_gib: int | None = None,
        tenant: str | None = None,
    ) -> ProvisionReport:
        """Omitted sizes keep what is there (defaults for new resources)."""
        request = ProvisionRequest(
            dry_run=dry_run,
            subnet_ids=subnet_ids or [],
            security_group_ids=security_group_ids or [],
            max_vcpus=max_vcpus,
            docker_volume_gib=docker_volume_gib,
        )
        data = self._http.request(
            "POST", self._path(tenant, name, "provision"), json=request.model_dump(mode="json")
        )
        return ProvisionReport.model_validate(data)

    def aws_identity(self, *, tenant: str | None = None) -> TenantAwsPublic:
        """The tenant's external id and the server's AWS principal, for role trust policies."""
        data = self._http.request("GET", f"/api/v1/tenants/{self._tenant(tenant)}/aws")
        return TenantAwsPublic.model_validate(data)
