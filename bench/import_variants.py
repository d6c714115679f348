"""Candidate optimizations of the import, applied by monkeypatching in the benchmark's process
only (nothing in src/ changes), so `bench/import_walk.py --variants ...` can measure each one
against the code as it is. Each patch is named; a variant joins names with `+`.

- `existing`: `imports._existing` looks the keys up through `unnest(:keys)` + `EXISTS` on
  PostgreSQL instead of `IN (:k1, ..., :k500)`. The IN form is prepared by psycopg after five
  executions and then runs as a generic plan that index-scans only `tenant_id` and compares
  every row of the tenant against the 500 parameters: O(rows of the tenant) per page.
  (Since c4a311d every PostgreSQL connection forces custom plans, which fixes the same thing
  for all statements; this patch is the statement-level alternative.)
- `nostage`: when every pattern fills a single-file property (pairs), groups complete within a
  listing page are created straight from the page; only the others go through
  `import_objects` (INSERT, SELECT back, DELETE).
- `bulk`: `Datasets.create_many` and the lineage edges insert with ORM bulk INSERT (list of
  dicts, insertmanyvalues) instead of building ORM objects and flushing a unit of work.
- `checks`: the per-character control-character scans (`locations._check_characters`,
  `storage.keys._check_characters`) become one precompiled regex search, and a file property
  whose URI is already one of the dataset's checked files is not checked a second time.
- `custom_plans`: (alternative to `existing`) `SET plan_cache_mode = force_custom_plan` on
  each PostgreSQL connection, so no statement runs on a generic plan.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, event, exists, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from mantle.catalog import datasets as datasets_module
from mantle.catalog import imports, locations
from mantle.catalog.datasets import Datasets, _state_columns, dataset_public
from mantle.db import dialects
from mantle.db.models import (
    SqlActivityDataset,
    SqlDataset,
    SqlDatasetVersion,
    SqlImportObject,
    SqlImportSource,
)
from mantle.db.repositories import datasets as repo
from mantle.db.repositories import lineage as lineage_repo
from mantle.schemas.catalog import DatasetFile, DatasetPublic, Origin
from mantle.storage import keys as storage_keys

PATCHES: dict[str, callable] = {}


def patch(name: str):
    def register(function):
        PATCHES[name] = function
        return function

    return register


class Patched:
    """Applies named patches; `undo()` restores everything."""

    def __init__(self, variant: str, engine) -> None:
        self._undo: list = []
        self.engine = engine
        names = [] if variant == "baseline" else variant.split("+")
        for name in names:
            PATCHES[name](self)

    def set(self, owner, attribute: str, value) -> None:
        self._undo.append((owner, attribute, getattr(owner, attribute)))
        setattr(owner, attribute, value)

    def undo(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            if owner == "event":
                event.remove(*original)
                continue
            setattr(owner, attribute, original)
        self._undo.clear()


# --- existing: the import_sources lookup -----------------------------------------------------


def _existing_unnest(session, tenant_id: uuid.UUID, keys: list[str]) -> set[str]:
    if dialects.dialect_name(session) != "postgresql":
        return _original_existing(session, tenant_id, keys)
    wanted = (
        func.unnest(bindparam("keys", keys, type_=ARRAY(String)))
        .table_valued("key")
        .render_derived(name="wanted")
    )
    query = select(wanted.c.key).where(
        exists().where(
            SqlImportSource.tenant_id == tenant_id, SqlImportSource.source_key == wanted.c.key
        )
    )
    return set(session.scalars(query))


_original_existing = imports._existing


@patch("existing")
def _patch_existing(p: Patched) -> None:
    p.set(imports, "_existing", _existing_unnest)


@patch("custom_plans")
def _patch_custom_plans(p: Patched) -> None:
    if p.engine.dialect.name != "postgresql":
        return

    def on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    p.engine.dispose()  # new connections get the setting
    event.listen(p.engine, "connect", on_connect)
    p._undo.append(("event", None, (p.engine, "connect", on_connect)))


# --- nostage: complete groups skip import_objects ---------------------------------------------


def _scan_nostage(self) -> None:
    start = self.ctx.checkpoint.get("cursor")
    for objects, cursor in imports.walk(self.bucket, self.spec.prefix, start):
        matches = [
            m for o in objects if (m := self.plan.match(o["Key"], o["Size"], imports._etag(o)))
        ]
        self.counts["objects_scanned"] += len(objects)
        self.counts["objects_matched"] += len(matches)
        with self.ctx.db.session() as session:
            if self.eager:
                self._page_eager(session, matches)
            else:
                self._stage(session, matches)
        self._report("scan", cursor)
        if cursor is None:
            break
    self._report("create")


def _page_eager(self, session, matches) -> None:
    groups: dict[str, list] = defaultdict(list)
    for match in matches:
        groups[match.group].append(match)
    complete = {g: members for g, members in groups.items() if self._complete_members(members)}
    if complete:
        # A group with objects staged from earlier pages takes the staged path, as before.
        seen_before = _staged_groups(session, self.ctx.job_id, list(complete))
        for group in seen_before:
            del complete[group]
    rest = [m for g, members in groups.items() if g not in complete for m in members]
    self._stage(session, rest)
    if complete:
        self._create_rows(session, complete, delete_staged=False)
    if rest:
        self._create_complete(session, {m.group for m in rest})


def _complete_members(self, members) -> bool:
    roles = [m.role for m in members]
    return all(roles.count(role) == 1 for role in self.spec.patterns)


def _staged_groups(session, job_id, groups: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(groups), 1000):
        found.update(
            session.scalars(
                select(SqlImportObject.group_key)
                .where(
                    SqlImportObject.job_id == job_id,
                    SqlImportObject.group_key.in_(groups[start : start + 1000]),
                )
                .distinct()
            )
        )
    return found


def _create_rows(self, session, groups: dict[str, list], delete_staged: bool = True) -> None:
    """`ImportRun._create`, with the DELETE of staged rows optional."""
    if not groups:
        return
    planned = [self.plan.build(g, members, self.bucket.uri) for g, members in groups.items()]
    keys = {p.group: imports.source_key(self.spec, p.group) for p in planned}
    existing = imports._existing(session, self.access.tenant_id, list(keys.values()))
    todo = []
    for p in planned:
        if keys[p.group] in existing:
            self.counts["datasets_existing"] += 1
        elif p.problems:
            self.counts["groups_skipped"] += 1
            self.problems.append(f"{p.group}: {'; '.join(p.problems)}")
        else:
            todo.append(p)
    created = self.catalog.datasets.create_many(
        session, self.access, [self._dataset(p) for p in todo], origin=Origin.import_
    )
    self.counts["datasets_created"] += len(created)
    if created:
        session.execute(
            SqlImportSource.__table__.insert(),
            [{"tenant_id": self.access.tenant_id, "source_key": keys[p.group],
              "dataset_id": d.id} for p, d in zip(todo, created, strict=True)],
        )  # fmt: skip
        lineage_repo.add_edges(
            session, uuid.UUID(self.activity_id), [(d.id, "output") for d in created]
        )
    if delete_staged:
        session.execute(
            SqlImportObject.__table__.delete().where(
                SqlImportObject.job_id == self.ctx.job_id,
                SqlImportObject.group_key.in_(list(groups)),
            )
        )


@patch("nostage")
def _patch_nostage(p: Patched) -> None:
    run = imports.ImportRun
    p.set(run, "_scan", _scan_nostage)
    p.set(run, "_create", lambda self, session, groups: _create_rows(self, session, groups))
    # New helpers (removed again by undo through setattr of the sentinel).
    for name, value in (("_page_eager", _page_eager), ("_complete_members", _complete_members),
                        ("_create_rows", _create_rows)):  # fmt: skip
        setattr(run, name, value)
        p._undo.append((run, name, None))


# --- bulk: ORM bulk INSERT instead of the unit of work ----------------------------------------


def _create_many_bulk(self, session, access, items, *, origin=Origin.api) -> list[DatasetPublic]:
    origin = Origin(origin)
    if not items:
        return []
    type_rows = {}
    states = []
    for data in items:
        if data.data_type not in type_rows:
            type_rows[data.data_type] = self._type_for_create(session, access, data.data_type)
        states.append(self._new_state(session, access, type_rows[data.data_type], data))
    first = repo.allocate_numbers(session, access.tenant_id, datasets_module.COUNTER, len(items))
    now, actor = datetime.now(UTC), access.principal.email
    rows, versions, public = [], [], []
    for i, (data, state) in enumerate(zip(items, states, strict=True)):
        type_row = type_rows[data.data_type]
        columns = _state_columns(state)
        row = {
            "id": uuid.uuid4(), "tenant_id": access.tenant_id, "number": first + i,
            "data_type_id": type_row.id, "origin": origin.value, "version": 1,
            "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor,
            **columns,
        }  # fmt: skip
        rows.append(row)
        versions.append({"dataset_id": row["id"], "version": 1, "change": "created",
                         "created_at": now, "created_by": actor, **columns})  # fmt: skip
        public.append(
            DatasetPublic(
                id=row["id"], short_id=datasets_module.short_id(row["number"]), name=state.name,
                data_type=type_row.name, data_type_version=state.data_type_version,
                properties=state.properties,
                files=[DatasetFile.model_validate(f) for f in state.files], tags=state.tags,
                origin=origin.value, archived=False, version=1, created_at=now, created_by=actor,
                updated_at=now, updated_by=actor,
            )
        )  # fmt: skip
    session.execute(insert(SqlDataset), rows)
    session.execute(insert(SqlDatasetVersion), versions)
    return public


def _add_edges_bulk(session, activity_id, edges) -> None:
    rows = [{"activity_id": activity_id, "dataset_id": d, "role": role} for d, role in edges]
    if rows:
        session.execute(insert(SqlActivityDataset), rows)


@patch("bulk")
def _patch_bulk(p: Patched) -> None:
    p.set(Datasets, "create_many", _create_many_bulk)
    p.set(lineage_repo, "add_edges", _add_edges_bulk)


# --- checks: cheaper validation ---------------------------------------------------------------

_LOCATION_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KEY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # Cc, and surrogates (not UTF-8)


def _location_check_characters(text: str) -> None:
    if _LOCATION_CONTROL.search(text):
        _original_location_check(text)  # the original raises with its message


def _key_check_characters(key: str, what: str) -> None:
    if _KEY_CONTROL.search(key) or "\\" in key or len(key) > storage_keys.MAX_KEY_BYTES // 4:
        _original_key_check(key, what)  # rare path: the original checks and raises


_original_location_check = locations._check_characters
_original_key_check = storage_keys._check_characters


def _file_property_once(self, session, access, uri: str, files: list[dict]) -> str:
    if any(f["uri"] == uri for f in files):
        return uri  # checked by `_checked_files` a moment ago
    return _original_file_property(self, session, access, uri, files)


_original_file_property = Datasets._file_property


@patch("checks")
def _patch_checks(p: Patched) -> None:
    p.set(locations, "_check_characters", _location_check_characters)
    p.set(storage_keys, "_check_characters", _key_check_characters)
    p.set(Datasets, "_file_property", _file_property_once)


__all__ = ["PATCHES", "Patched", "dataset_public"]
