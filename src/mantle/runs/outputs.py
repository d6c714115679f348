"""A succeeded run's outputs become datasets, exactly once.

outputs.json lists every published file; the pipeline version's output rules group them into
datasets (`pipelines.outputs.match_outputs`). One transaction holds everything: the
`SqlRunOutput` row of every file (the primary key (run, path) is the guard: a second ingest
of the same run cannot commit), the datasets, the `pipeline_run` activity linking the run's
inputs to them, `run.activity_id`, `outputs_state = done` and the move to SUCCEEDED. A worker
that dies half way commits nothing, and the next attempt starts from a clean slate.

The files stay where the pipeline published them: in the tenant's area of the platform store
(local runs) or in the environment's write bucket (AWS runs), referenced in place, the way
imports reference read-bucket objects. Files no rule matches are listed on the run (their
`SqlRunOutput` row has no dataset) but make no dataset; a group the catalog refuses (say, a
property that breaks its type's schema) is reported on the run and skipped, not fatal.
"""

from __future__ import annotations

import logging
import posixpath
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mantle.accounts.policy import ROLE_PERMISSIONS, Principal, TenantAccess
from mantle.catalog.service import Catalog
from mantle.db.models import (
    SqlDataset,
    SqlPipeline,
    SqlPipelineVersion,
    SqlRun,
    SqlRunOutput,
    SqlTenant,
)
from mantle.errors import MantleError
from mantle.pipelines.outputs import match_outputs
from mantle.rundir import OUTPUTS_DIR, OutputsManifest
from mantle.schemas.accounts import Role
from mantle.schemas.catalog import ActivityKind, DatasetCreate, FileRef, Origin
from mantle.storage import ObjectStore

log = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done"
# match_outputs(rules, files) -> groups with .data_type, .name, .properties, .files
Matcher = Callable[[list, list], Sequence[Any]]


@dataclass
class Ingested:
    datasets: list[str] = field(default_factory=list)  # short ids, in creation order
    unmatched: list[str] = field(default_factory=list)  # paths no rule matched
    problems: list[str] = field(default_factory=list)  # groups the catalog refused, and why
    activity_id: uuid.UUID | None = None

    def summary(self) -> str:
        """What to add to the run's status reason when something did not become a dataset."""
        if not self.problems:
            return ""
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{len(self.problems)} output group(s) made no dataset: {first}{more}"


def run_access(session: Session, run: SqlRun) -> TenantAccess:
    """Act for the run: its datasets are made with the rights of a member and attributed to
    the run's creator. The launch was authorized; outputs are still registered if that user
    has left the tenant since (they are the run's product, not a new action of theirs)."""
    tenant = session.get(SqlTenant, run.tenant_id)
    principal = Principal(
        user_id=run.created_by_id or uuid.UUID(int=0),
        email=run.created_by or "pipeline run",
        is_superuser=False,
    )
    return TenantAccess(tenant=tenant, principal=principal, role=Role.member,
                        permissions=ROLE_PERMISSIONS[Role.member])  # fmt: skip


def dataset_name(run_name: str, group: Any, rules: Sequence[Any]) -> str:
    """The rule's `name` template as the matcher filled it; without one, `<run name> <file
    stem>` (or `<run name> <group>` for a rule that groups files)."""
    rule = _rule_of(group, rules)
    group_name = (getattr(group, "name", "") or "").strip()
    if group_name and (rule is None or _field(rule, "name")):
        return group_name[:500]
    if group_name and _field(rule, "group_by"):
        return f"{run_name} {group_name}".strip()[:500]
    first = posixpath.basename(group.files[0].path)
    stem = first.split(".", 1)[0] or first
    return f"{run_name} {stem}".strip()[:500]


def _rule_of(group: Any, rules: Sequence[Any]) -> Any:
    index = getattr(group, "rule", None)
    return rules[index] if isinstance(index, int) and 0 <= index < len(rules) else None


def _field(rule: Any, name: str) -> Any:
    return rule.get(name) if isinstance(rule, dict) else getattr(rule, name, None)


def ingest(
    session: Session,
    catalog: Catalog,
    run: SqlRun,
    manifest: OutputsManifest,
    run_store: ObjectStore,
    *,
    match: Matcher | None = None,
) -> Ingested:
    """Register the outputs of `run` in the caller's transaction (see the module docstring).
    Does nothing when they are registered already."""
    if run.outputs_state == DONE:
        return Ingested(activity_id=run.activity_id)
    version = session.get(SqlPipelineVersion, run.pipeline_version_id)
    rules = list(version.output_rules or []) if version else []
    groups = []
    if rules and manifest.files:
        groups = list((match or match_outputs)(rules, list(manifest.files)))
    access = run_access(session, run)
    result = Ingested()
    # The guard first: a second ingest of this run fails here, before anything else happens.
    # (It also makes this transaction a writing one before the savepoints below: SQLite's
    # driver would otherwise commit at the first RELEASE SAVEPOINT.)
    listed = {f.path: SqlRunOutput(run_id=run.id, path=f.path[:1024]) for f in manifest.files}
    session.add_all(listed.values())
    session.flush()
    created: list[uuid.UUID] = []
    for group in groups:
        name = dataset_name(run.name, group, rules)
        made = _create_dataset(session, catalog, access, run, group, name, run_store, result)
        if made is not None:
            created.append(made)
            for f in group.files:
                if f.path in listed:
                    listed[f.path].dataset_id = made
    result.unmatched = [path for path, row in listed.items() if row.dataset_id is None]
    inputs = _input_ids(session, run)
    if inputs or created:
        activity = catalog.lineage.record_activity(
            session, access, ActivityKind.pipeline_run, inputs=inputs, outputs=created,
            details=_details(session, run, version),
        )  # fmt: skip
        run.activity_id = result.activity_id = activity.id
    run.outputs_state = DONE
    return result


def _create_dataset(session, catalog, access, run, group, name, run_store, result):
    files = list(group.files)
    if not files:
        return None
    data = DatasetCreate(
        name=name,
        data_type=group.data_type,
        properties=dict(getattr(group, "properties", None) or {}),
        files=[
            FileRef(
                uri=run_store.uri(OUTPUTS_DIR + f.path),
                name=f.path,
                size=f.size,
                checksum=f.checksum or None,
            )
            for f in files
        ],  # fmt: skip
    )
    try:
        with session.begin_nested():  # a refused group leaves no trace; the others go on
            made = catalog.datasets.create(session, access, data, origin=Origin.pipeline_run)
    except MantleError as e:
        result.problems.append(f"{files[0].path}: {e.message}")
        log.info("run %s: output %s made no dataset: %s", run.id, files[0].path, e.message)
        return None
    result.datasets.append(made.short_id)
    return made.id


def _input_ids(session: Session, run: SqlRun) -> list[uuid.UUID]:
    """The run's input datasets (as launch resolved them) that still exist (one deleted
    since launch is left out)."""
    wanted: list[uuid.UUID] = []
    raw = list((run.inputs or {}).get("datasets", []))
    for value in raw:
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(SqlDataset.id).where(SqlDataset.tenant_id == run.tenant_id,
                                        SqlDataset.id.in_(wanted))
        )
    )  # fmt: skip
    return list(dict.fromkeys(d for d in wanted if d in found))


def _details(session: Session, run: SqlRun, version: SqlPipelineVersion | None) -> dict:
    pipeline = session.get(SqlPipeline, run.pipeline_id)
    return {
        "run_id": str(run.id),
        "run_number": run.number,
        "run_name": run.name,
        "pipeline": pipeline.name if pipeline else "",
        "version": version.version if version else None,
        "commit": run.commit,
    }
