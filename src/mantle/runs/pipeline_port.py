"""What launching needs from the pipelines package, in one place: the pipeline version to run,
params validation against its schema, and its samplesheet. `PlatformPipelines` forwards to
`mantle.pipelines`; tests may hand `Runs` another object with the same methods."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.db.models import SqlPipelineVersion
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
        return self._services.pipelines.version(session, access, ref, version)

    def validate_params(self, params_schema, params):
        from mantle.pipelines.schema import validate_params

        return validate_params(params_schema, params)

    def samplesheet_param(self, version):
        from mantle.pipelines.samplesheet import samplesheet_param

        return samplesheet_param(version)

    def default_columns(self, input_schema, datasets):
        from mantle.pipelines.samplesheet import default_columns

        return default_columns(input_schema, datasets)

    def build_samplesheet(self, columns, datasets):
        from mantle.pipelines.samplesheet import build_samplesheet

        return build_samplesheet(columns, datasets)

    def check_samplesheet(self, input_schema, csv_bytes):
        from mantle.pipelines.samplesheet import check_samplesheet

        check_samplesheet(input_schema, csv_bytes)

    def check_inputs(self, version, datasets):
        if not version.script:
            return
        from mantle.pipelines.script import check_inputs

        check_inputs(version.script, datasets)
