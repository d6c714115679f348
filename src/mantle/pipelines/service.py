"""`Pipelines`: the registry's use cases. A tenant's pipelines are Nextflow repositories
(registered from git at a revision, resolved to the exact commit) and script pipelines (a
`mantle.yml` in git, or built in: every tenant has `fastq-stats` without registering it).

Versions are immutable and numbered 1..n per pipeline: registering a name again adds a
version (unless nothing changed: the same commit, rules and samplesheet give back the latest
version). Viewers read; members and admins register (the `write` permission), as Seqera lets
maintainers add pipelines. Another tenant's pipeline answers 404.

Reading git is slow: `inspect` does it with no database session, and `register` takes its
result (`snapshot=`), so a route holds no transaction while git fetches.

    pipelines = Pipelines(settings.data_dir / "git-cache")
    snapshot = pipelines.inspect(url, "3.14.0")
    with db.session() as session:
        version = pipelines.register(session, access, name="rnaseq", repository=url,
                                     revision="3.14.0", snapshot=snapshot)
"""

from __future__ import annotations

import json
import posixpath
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mantle._version import __version__
from mantle.accounts.policy import Permission, TenantAccess
from mantle.db.models import SqlPipeline, SqlPipelineVersion
from mantle.db.repositories import pipelines as repo
from mantle.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from mantle.pipelines.git import DEFAULT_TIMEOUT, GitRepositories
from mantle.pipelines.outputs import parse_rules
from mantle.pipelines.samplesheet import find_samplesheet_param, samplesheet_param
from mantle.pipelines.schema import (
    check_patterns,
    check_schema,
    declared_params,
    keep_order,
    normalize,
    ordered_properties,
    validator_for,
)
from mantle.pipelines.script import SPEC_FILE, ScriptSpec, builtin_specs, parse_spec
from mantle.schemas.pipelines import (
    OutputRule,
    ParamsForm,
    PipelinePublic,
    PipelineVersionPublic,
    SamplesheetConfig,
)

SCHEMA_FILE = "nextflow_schema.json"
MAIN_SCRIPT = "main.nf"
BUILTIN_REVISION = "builtin"
# What nf-core pipelines publish that is worth a dataset without any configuration.
DEFAULT_NEXTFLOW_RULES = (
    OutputRule(glob="**/multiqc_report.html", data_type="report", name="MultiQC report"),
)


@dataclass(frozen=True)
class RepoSnapshot:
    """What a repository holds at one commit, as registration needs it."""

    repository: str
    revision: str
    commit: str
    engine: str  # "nextflow" | "script"
    main_script: str
    params_schema: dict[str, Any]
    input_schema: dict[str, Any] | None
    script: ScriptSpec | None


def default_name(repository: str) -> str:
    """`https://github.com/nf-core/rnaseq.git` -> `rnaseq`."""
    tail = repository.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
    return tail.removesuffix(".git") or "pipeline"


def _json_file(data: bytes, path: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(parsed, dict):
        raise InvalidInputError(f"{path}: the top level must be a JSON object")
    return parsed


def _repo_path(value: str) -> str:
    """A schema path from nextflow_schema.json (`assets/schema_input.json`, maybe with
    `${projectDir}/` or `./`) as a path inside the repository."""
    for prefix in ("${projectDir}/", "$projectDir/", "${baseDir}/", "./"):
        value = value.removeprefix(prefix)
    path = posixpath.normpath(value)
    if path.startswith(("/", "..")) or "://" in value:
        raise InvalidInputError(f"samplesheet schema {value[:200]!r} is not inside the repository")
    return path


class Pipelines:
    def __init__(
        self,
        git_cache_dir: Path,
        *,
        git_timeout: float = DEFAULT_TIMEOUT,
        allow_local_repos: bool = True,
        forbidden_roots: list[Path] | tuple[Path, ...] = (),
    ) -> None:
        self.git = GitRepositories(
            git_cache_dir,
            timeout=git_timeout,
            allow_local=allow_local_repos,
            forbidden_roots=[git_cache_dir, *forbidden_roots],
        )
        self._builtins = builtin_specs()

    # --- reading repositories (no database) ---------------------------------------------------

    def inspect(
        self,
        repository: str,
        revision: str,
        *,
        samplesheet: SamplesheetConfig | dict | None = None,
    ) -> RepoSnapshot:
        """`repository` at `revision`: its commit, engine and schemas. InvalidInputError (422)
        for an unreachable repository, an unknown revision or unreadable schema files."""
        commit = self.git.resolve(repository, revision)
        repository, revision = repository.strip(), revision.strip()
        read = lambda path: self.git.read(repository, commit, path)  # noqa: E731
        if read(MAIN_SCRIPT) is None:
            spec_text = read(SPEC_FILE)
            if spec_text is None:
                raise InvalidInputError(
                    f"no {MAIN_SCRIPT} (Nextflow) or {SPEC_FILE} (script pipeline) at the root "
                    f"of {repository[:200]} at {revision} ({commit[:12]})"
                )
            spec = parse_spec(spec_text)
            return RepoSnapshot(repository, revision, commit, "script", "", spec.params, None, spec)
        raw = read(SCHEMA_FILE)
        params_schema = _json_file(raw, SCHEMA_FILE) if raw is not None else {}
        if params_schema:
            check_schema(params_schema)
        input_schema = self._input_schema(read, params_schema, samplesheet)
        return RepoSnapshot(
            repository, revision, commit, "nextflow", MAIN_SCRIPT, params_schema, input_schema, None
        )

    @staticmethod
    def _input_schema(read, params_schema: dict, samplesheet) -> dict[str, Any] | None:
        config = SamplesheetConfig.model_validate(samplesheet or {})
        param = find_samplesheet_param(params_schema, config.param)
        if param is None:
            return None
        declared = declared_params(params_schema).get(param)
        if declared is None and config.param and params_schema:
            raise InvalidInputError(f"samplesheet param {param!r} is not in {SCHEMA_FILE}")
        ref = (declared or {}).get("schema")
        if not isinstance(ref, str):
            return None
        path = _repo_path(ref)
        data = read(path)
        if data is None:
            raise InvalidInputError(f"{SCHEMA_FILE} names {path} for '{param}', which is missing")
        schema = _json_file(data, path)
        validator_for(schema)
        check_patterns(schema, path)
        return schema

    # --- the registry -------------------------------------------------------------------------

    def check_name(self, name: str) -> None:
        """Refuse a name taken by a built-in pipeline (before any git work is done)."""
        if name in {spec.name for spec, _ in self._builtins}:
            raise ConflictError(f"'{name}' is a built-in pipeline; choose another name")

    def register(
        self,
        session: Session,
        access: TenantAccess,
        *,
        name: str,
        repository: str,
        revision: str,
        description: str = "",
        output_rules: list[OutputRule | dict] | None = None,
        samplesheet: SamplesheetConfig | dict | None = None,
        snapshot: RepoSnapshot | None = None,
    ) -> SqlPipelineVersion:
        """A new version of pipeline `name` (created if new) from `repository` at `revision`."""
        if not access.allows(Permission.write):
            raise PermissionDeniedError(
                f"your role in this tenant is '{access.role}', which cannot register pipelines"
            )
        self.check_name(name)
        snapshot = snapshot or self.inspect(repository, revision, samplesheet=samplesheet)
        config = SamplesheetConfig.model_validate(samplesheet) if samplesheet else None
        rules = self._rules(snapshot, output_rules)
        pipeline = repo.get_by_name(session, access.tenant_id, name)
        actor, now = access.principal.email, datetime.now(UTC)
        if pipeline is None:
            pipeline = repo.add(
                session,
                tenant_id=access.tenant_id,
                name=name,
                engine=snapshot.engine,
                description=description or (snapshot.script.description if snapshot.script else ""),
                repository=snapshot.repository,
                builtin=False,
                created_at=now,
                created_by=actor,
            )
        elif pipeline.repository != snapshot.repository or pipeline.engine != snapshot.engine:
            raise ConflictError(
                f"pipeline '{name}' is registered from {pipeline.repository} "
                f"({pipeline.engine}); register {snapshot.repository} under another name"
            )
        elif description:
            pipeline.description = description
        values = {
            "revision": snapshot.revision,
            "commit": snapshot.commit,
            "main_script": snapshot.main_script,
            "params_schema": keep_order(snapshot.params_schema),
            "input_schema": keep_order(snapshot.input_schema),
            "samplesheet": config.model_dump(exclude_none=True) if config else None,
            "output_rules": rules,
            "script": snapshot.script.model_dump(mode="json") if snapshot.script else None,
        }
        number = repo.latest_number(session, pipeline.id)
        latest = repo.get_version(session, pipeline.id, number) if number else None
        if latest is not None and all(getattr(latest, k) == v for k, v in values.items()):
            return latest
        return repo.add_version(
            session,
            pipeline_id=pipeline.id,
            tenant_id=access.tenant_id,
            version=number + 1,
            created_at=now,
            created_by=actor,
            **values,
        )

    @staticmethod
    def _rules(snapshot: RepoSnapshot, given: list | None) -> list[dict[str, Any]]:
        if given is None:
            given = snapshot.script.outputs if snapshot.script else list(DEFAULT_NEXTFLOW_RULES)
        try:
            rules = parse_rules(given)
        except ValueError as e:
            raise InvalidInputError(f"output_rules: {e}") from e
        return [r.model_dump(mode="json", exclude_none=True) for r in rules]

    def ensure_builtins(self, session: Session, tenant_id: uuid.UUID) -> None:
        """Give the tenant the built-in script pipelines, and a new version of one when the
        spec shipped with this Mantle changed. Racing seeders are harmless."""
        for spec, _text in self._builtins:
            script = spec.model_dump(mode="json")
            row = repo.get_by_name(session, tenant_id, spec.name)
            if row is None:
                repo.insert_missing(session, [self._builtin_row(tenant_id, spec)])
                row = repo.get_by_name(session, tenant_id, spec.name)
            if row is None or not row.builtin:
                continue
            number = repo.latest_number(session, row.id)
            latest = repo.get_version(session, row.id, number) if number else None
            if latest is not None and latest.script == script:
                continue
            repo.insert_missing_versions(session, [self._builtin_version(row, number + 1, spec)])

    @staticmethod
    def _builtin_row(tenant_id: uuid.UUID, spec: ScriptSpec) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "name": spec.name,
            "engine": "script",
            "description": spec.description,
            "repository": "",
            "builtin": True,
            "created_at": datetime.now(UTC),
            "created_by": "mantle",
        }

    @staticmethod
    def _builtin_version(row: SqlPipeline, number: int, spec: ScriptSpec) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "pipeline_id": row.id,
            "tenant_id": row.tenant_id,
            "version": number,
            "revision": f"{BUILTIN_REVISION}-{__version__}",
            "commit": "",
            "main_script": "",
            "params_schema": keep_order(spec.params),
            "input_schema": None,
            "samplesheet": None,
            "output_rules": [r.model_dump(mode="json", exclude_none=True) for r in spec.outputs],
            "script": spec.model_dump(mode="json"),
            "created_at": datetime.now(UTC),
            "created_by": "mantle",
        }

    def list(self, session: Session, access: TenantAccess) -> list[PipelinePublic]:
        self.ensure_builtins(session, access.tenant_id)
        latest = repo.latest_versions(session, access.tenant_id)
        rows = repo.list_all(session, access.tenant_id)
        return [pipeline_public(row, latest[row.id]) for row in rows if row.id in latest]

    def get(self, session: Session, access: TenantAccess, ref: str) -> SqlPipeline:
        """The tenant's pipeline by name or id; NotFoundError otherwise."""
        ref = str(ref).strip()
        try:
            row = repo.get(session, access.tenant_id, uuid.UUID(ref))
        except ValueError:
            if ref in {spec.name for spec, _ in self._builtins}:
                self.ensure_builtins(session, access.tenant_id)  # seeded, and up to date
            row = repo.get_by_name(session, access.tenant_id, ref)
        if row is None:
            raise NotFoundError(f"pipeline '{ref[:100]}' not found")
        return row

    def describe(self, session: Session, access: TenantAccess, ref: str) -> PipelinePublic:
        row = self.get(session, access, ref)
        return pipeline_public(row, self._version_of(session, row, None))

    def version(
        self, session: Session, access: TenantAccess, ref: str, version: int | None = None
    ) -> SqlPipelineVersion:
        """A version of the pipeline (the latest when `version` is None)."""
        return self._version_of(session, self.get(session, access, ref), version)

    @staticmethod
    def _version_of(session: Session, row: SqlPipeline, version: int | None):
        number = version if version is not None else repo.latest_number(session, row.id)
        found = repo.get_version(session, row.id, number) if number else None
        if found is None:
            which = f"version {version}" if version is not None else "any version"
            raise NotFoundError(f"pipeline '{row.name}' has no {which}")
        return found

    def versions(self, session: Session, access: TenantAccess, ref: str):
        return repo.list_versions(session, self.get(session, access, ref).id)

    def schema(
        self, session: Session, access: TenantAccess, ref: str, version: int | None = None
    ) -> ParamsForm:
        """The launch form of a version: params in groups, the samplesheet param and its
        columns, and a script pipeline's typed inputs."""
        found = self.version(session, access, ref, version)
        return params_form(found)


def pipeline_public(row: SqlPipeline, latest: SqlPipelineVersion) -> PipelinePublic:
    return PipelinePublic(
        id=row.id,
        name=row.name,
        engine=row.engine,
        description=row.description,
        repository=row.repository,
        builtin=row.builtin,
        latest_version=latest.version,
        revision=latest.revision,
        commit=latest.commit,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=latest.created_at,
    )


def version_public(row: SqlPipelineVersion) -> PipelineVersionPublic:
    return PipelineVersionPublic(
        pipeline=row.pipeline.name,
        version=row.version,
        engine=row.pipeline.engine,
        revision=row.revision,
        commit=row.commit,
        main_script=row.main_script,
        samplesheet_param=samplesheet_param(row),
        samplesheet=SamplesheetConfig.model_validate(row.samplesheet) if row.samplesheet else None,
        output_rules=row.output_rules or [],
        script=row.script,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def params_form(row: SqlPipelineVersion) -> ParamsForm:
    form = normalize(row.params_schema or {})
    items = ((row.input_schema or {}).get("items") or {}) if row.input_schema else {}
    required = set(items.get("required") or [])
    columns = [
        {"name": name, "required": name in required, **_column_fields(spec)}
        for name, spec in ordered_properties(items)
        if isinstance(spec, dict)
    ]
    return ParamsForm(
        pipeline=row.pipeline.name,
        version=row.version,
        title=form["title"],
        description=form["description"],
        groups=form["groups"],
        samplesheet_param=samplesheet_param(row),
        samplesheet_columns=columns,
        inputs=(row.script or {}).get("inputs") or [],
    )


def _column_fields(spec: dict[str, Any]) -> dict[str, Any]:
    keys = ("type", "format", "pattern", "enum", "description", "errorMessage", "meta", "exists")
    return {k: spec[k] for k in keys if k in spec}
