"""What launching needs from the pipelines package, in one place: the pipeline version to run,
params validation against its schema, and its samplesheet. `PlatformPipelines` forwards to
`mantle.pipelines`; tests may hand `Runs` another object with the same methods."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.db.models import SqlPipelineVersion
from mantle.errors import NotFoundError
from mantle.rundir import InputDataset


class PipelinePort(Protocol):
    def version(
        self, session: Session, access: TenantAccess, ref: str, version: int | None = None
    ) -> SqlPipelineVersion: ...

    def validate_params(self, params_schema: dict, params: dict[str, Any]) -> dict[str, Any]: ...

    def samplesheet_param(self, version: SqlPipelineVersion) -> str | None: ...

    def default_columns(
        self, input_schema: dict | None, datasets: list[InputDataset]
    ) -> dict[str, str]: ...

    def build_samplesheet(self, columns: dict[str, str], datasets: list[InputDataset]) -> bytes: ...

    def check_samplesheet(self, input_schema: dict | None, csv_bytes: bytes) -> None: ...

    def check_inputs(self, version: SqlPipelineVersion, datasets: list[InputDataset]) -> None:
        """Refuse datasets the pipeline does not take (script pipelines declare theirs)."""


class PlatformPipelines:
    """The real thing: `services.pipelines` and the `mantle.pipelines` helpers."""

    def __init__(self, services: Any) -> None:
        self._services = services

    def version(self, session, access, ref, version=None):
        pipelines = getattr(self._services, "pipelines", None)
        if pipelines is None:  # a deployment built without the pipelines service
            raise NotFoundError(f"pipeline '{ref[:100]}' not found")
        return pipelines.version(session, access, ref, version)

    def validate_params(self, params_schema, params):
        from mantle.pipelines.schema import validate_params  # type: ignore[import-not-found]

        return validate_params(params_schema, params)

    def samplesheet_param(self, version):
        from mantle.pipelines.samplesheet import samplesheet_param  # type: ignore[import-not-found]

        return samplesheet_param(version)

    def default_columns(self, input_schema, datasets):
        from mantle.pipelines.samplesheet import default_columns  # type: ignore[import-not-found]

        return default_columns(input_schema, datasets)

    def build_samplesheet(self, columns, datasets):
        from mantle.pipelines.samplesheet import build_samplesheet  # type: ignore[import-not-found]

        return build_samplesheet(columns, datasets)

    def check_samplesheet(self, input_schema, csv_bytes):
        from mantle.pipelines.samplesheet import check_samplesheet  # type: ignore[import-not-found]

        check_samplesheet(input_schema, csv_bytes)

    def check_inputs(self, version, datasets):
        if not version.script:
            return
        from mantle.pipelines.script import check_inputs  # type: ignore[import-not-found]

        check_inputs(version.script, datasets)
