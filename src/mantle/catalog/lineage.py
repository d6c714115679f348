"""Lineage: activities (upload, import, pipeline run, manual) with input and output datasets,
and the graph around a dataset, upstream and downstream, N levels deep.

Uploads, imports and pipeline runs all record their activity here through
`record_activity`; the graph is walked level by level with one query per step, so its cost
grows with the graph shown, not with the catalog.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.datasets import Datasets, short_id
from mantle.db.models import SqlActivity, SqlDataset
from mantle.db.repositories import lineage as repo
from mantle.db.repositories.lineage import INPUT, OUTPUT
from mantle.errors import InvalidInputError, NotFoundError
from mantle.schemas.catalog import (
    ActivityKind,
    ActivityPublic,
    LineageEdge,
    LineageGraph,
    LineageNode,
)

MAX_DEPTH = 20
MAX_NODES = 2000
Direction = Literal["both", "upstream", "downstream"]


class Lineage:
    def __init__(self, datasets: Datasets) -> None:
        self.datasets = datasets

    def record_activity(
        self,
        session: Session,
        access: TenantAccess,
        kind: ActivityKind | str,
        *,
        inputs: Sequence[str | uuid.UUID] = (),
        outputs: Sequence[str | uuid.UUID] = (),
        details: dict[str, Any] | None = None,
    ) -> ActivityPublic:
        """Record that an activity read `inputs` and made `outputs` (dataset short ids or
        UUIDs of this tenant; an unknown one is a 404)."""
        kind = ActivityKind(kind)
        if not inputs and not outputs:
            raise InvalidInputError("an activity needs at least one input or output dataset")
        ins = _unique(self.datasets.resolve_many(session, access, list(inputs)))
        outs = _unique(self.datasets.resolve_many(session, access, list(outputs)))
        activity = repo.add_activity(
            session,
            tenant_id=access.tenant_id,
            kind=kind.value,
            details=details or {},
            created_at=datetime.now(UTC),
            created_by=access.principal.email,
        )
        edges = [(d.id, INPUT) for d in ins] + [(d.id, OUTPUT) for d in outs]
        repo.add_edges(session, activity.id, edges)
        return _activity_public(activity, ins, outs)

    def get_activity(self, session: Session, access: TenantAccess, activity_id: uuid.UUID):
        activity = repo.get_activity(session, access.tenant_id, activity_id)
        if activity is None:
            raise NotFoundError("activity not found")
        edges = repo.edges_of_activities(session, [activity.id])
        rows = {d.id: d for d in repo.datasets(session, access.tenant_id, {e[1] for e in edges})}
        ins = sorted((rows[d] for _a, d, role in edges if role == INPUT), key=_number)
        outs = sorted((rows[d] for _a, d, role in edges if role == OUTPUT), key=_number)
        return _activity_public(activity, ins, outs)

    def graph(
        self,
        session: Session,
        access: TenantAccess,
        ref: str | uuid.UUID,
        *,
        depth: int = 3,
        direction: Direction = "both",
        max_nodes: int = MAX_NODES,
    ) -> LineageGraph:
        if not 1 <= depth <= MAX_DEPTH:
            raise InvalidInputError(f"depth: from 1 to {MAX_DEPTH}")
        root = self.datasets.load(session, access, ref)
        walk = _Walk(session, access.tenant_id, max_nodes)
        walk.dataset_ids.add(root.id)
        if direction in ("both", "upstream"):
            walk.run(root.id, depth, toward=OUTPUT, away=INPUT)
        if direction in ("both", "downstream"):
            walk.run(root.id, depth, toward=INPUT, away=OUTPUT)
        return walk.result(short_id(root.number), depth)


class _Walk:
    """Breadth-first over dataset -> activity -> dataset steps, collecting nodes and edges."""

    def __init__(self, session: Session, tenant_id: uuid.UUID, max_nodes: int) -> None:
        self.session, self.tenant_id, self.max_nodes = session, tenant_id, max_nodes
        self.dataset_ids: set[uuid.UUID] = set()
        self.activity_ids: set[uuid.UUID] = set()
        self.edges: set[tuple[uuid.UUID, uuid.UUID, str]] = set()  # (activity, dataset, role)
        self.truncated = False

    def run(self, start: uuid.UUID, depth: int, *, toward: str, away: str) -> None:
        """`toward`: the role the frontier plays for the next activities (output when going
        upstream); `away`: the role of the datasets reached through them."""
        frontier = {start}
        for _level in range(depth):
            if not frontier or self._full():
                break
            reached = repo.edges_of_datasets(self.session, frontier, toward)
            activities = {a for a, _d in reached}
            self.edges.update((a, d, toward) for a, d in reached)
            self.activity_ids |= activities
            beyond = repo.edges_of_activities(self.session, activities, away) if activities else []
            self.edges.update(beyond)
            frontier = {d for _a, d, _r in beyond} - self.dataset_ids
            self.dataset_ids |= frontier

    def _full(self) -> bool:
        self.truncated = len(self.dataset_ids) + len(self.activity_ids) >= self.max_nodes
        return self.truncated

    def result(self, root: str, depth: int) -> LineageGraph:
        datasets = {d.id: d for d in repo.datasets(self.session, self.tenant_id, self.dataset_ids)}
        activities = repo.activities(self.session, self.tenant_id, self.activity_ids)
        nodes = [_dataset_node(d) for d in sorted(datasets.values(), key=lambda d: d.number)]
        nodes += [_activity_node(a) for a in sorted(activities, key=lambda a: a.created_at)]
        edges = []
        for activity_id, dataset_id, role in sorted(self.edges, key=str):
            if dataset_id not in datasets:
                continue
            ds, act = short_id(datasets[dataset_id].number), str(activity_id)
            edges.append(
                LineageEdge(source=ds, target=act)
                if role == INPUT
                else LineageEdge(source=act, target=ds)
            )
        return LineageGraph(
            root=root, depth=depth, nodes=nodes, edges=edges, truncated=self.truncated
        )


def _number(row: SqlDataset) -> int:
    return row.number


def _unique(rows: list[SqlDataset]) -> list[SqlDataset]:
    return list({row.id: row for row in rows}.values())


def _dataset_node(row: SqlDataset) -> LineageNode:
    return LineageNode(
        id=short_id(row.number),
        kind="dataset",
        name=row.name,
        data_type=row.data_type.name,
        created_at=row.created_at,
        archived=row.archived,
    )


def _activity_node(row: SqlActivity) -> LineageNode:
    return LineageNode(
        id=str(row.id),
        kind="activity",
        name=row.kind,
        activity_kind=row.kind,
        details=row.details,
        created_at=row.created_at,
    )


def _activity_public(activity: SqlActivity, ins, outs) -> ActivityPublic:
    return ActivityPublic(
        id=activity.id,
        kind=activity.kind,
        details=activity.details,
        inputs=[short_id(d.number) for d in ins],
        outputs=[short_id(d.number) for d in outs],
        created_at=activity.created_at,
        created_by=activity.created_by,
    )
