"""SDK resources of the catalog: data types, datasets (paginating queries, versions, archive,
lineage, export, `to_dataframe`) and lineage activities."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr, TypeAdapter

from mantle.client._resources import _Resource
from mantle.errors import InvalidInputError
from mantle.schemas.catalog import (
    ActivityPublic,
    DatasetPage,
    DatasetPublic,
    DatasetVersionPublic,
    DataTypePublic,
    DataTypeVersionPublic,
    LineageGraph,
    PropertyDef,
)

if TYPE_CHECKING:
    import pandas


class DataTypes(_Resource):
    def _path(self, tenant: str | None, *parts: str) -> str:
        return "/".join([f"/api/v1/tenants/{self._tenant(tenant)}/data-types", *parts])

    def list(self, *, tenant: str | None = None) -> list[DataTypePublic]:
        data = self._http.request("GET", self._path(tenant))
        return TypeAdapter(list[DataTypePublic]).validate_python(data)

    def get(self, name: str, *, tenant: str | None = None) -> DataTypePublic:
        return DataTypePublic.model_validate(self._http.request("GET", self._path(tenant, name)))

    def create(
        self,
        name: str,
        properties: list[dict],
        *,
        description: str = "",
        additional_properties: bool = False,
        tenant: str | None = None,
    ) -> DataTypePublic:
        body = {
            "name": name,
            "description": description,
            "properties": properties,
            "additional_properties": additional_properties,
        }
        data = self._http.request("POST", self._path(tenant), json=body)
        return DataTypePublic.model_validate(data)

    def update(self, name: str, *, tenant: str | None = None, **changes) -> DataTypePublic:
        """New version: `properties=[...]`, `description=...`, `expected_version=N`."""
        data = self._http.request("PATCH", self._path(tenant, name), json=changes)
        return DataTypePublic.model_validate(data)

    def edit(
        self,
        name: str,
        *,
        description: str | None = None,
        add: list[dict] = (),
        remove: list[str] = (),
        require: list[str] = (),
        optional: list[str] = (),
        enums: dict[str, list | None] | None = None,
        additional_properties: bool | None = None,
        tenant: str | None = None,
    ) -> DataTypePublic:
        """Change some properties of a type and keep the rest: `add` new definitions,
        `remove` or make `optional`/`require`d by name, set `enums` (None drops one). Sent
        with the version read, so a concurrent change raises ConflictError; the server refuses
        what would break existing datasets (see `mantle.catalog.types`)."""
        current = self.get(name, tenant=tenant)
        properties = edit_properties(
            current.properties, add=add, remove=remove, require=require, optional=optional,
            enums=enums or {},
        )  # fmt: skip
        changes: dict[str, Any] = {"expected_version": current.version, "properties": properties}
        if description is not None:
            changes["description"] = description
        if additional_properties is not None:
            changes["additional_properties"] = additional_properties
        return self.update(name, tenant=tenant, **changes)

    def versions(self, name: str, *, tenant: str | None = None) -> list[DataTypeVersionPublic]:
        data = self._http.request("GET", self._path(tenant, name, "versions"))
        return TypeAdapter(list[DataTypeVersionPublic]).validate_python(data)


def edit_properties(current: list[PropertyDef], *, add, remove, require, optional, enums):
    """The property definitions after an edit, as JSON; unknown names are refused."""
    found = {p.name: p.model_dump(mode="json", exclude_none=True) for p in current}
    for spec in add:
        if spec["name"] in found:
            raise InvalidInputError(f"'{spec['name']}' is already a property of this type")
        found[spec["name"]] = dict(spec)
    for name in [*remove, *require, *optional, *enums]:
        if name not in found:
            raise InvalidInputError(f"'{name}' is not a property of this type")
    for name in require:
        found[name]["required"] = True
    for name in optional:
        found[name]["required"] = False
    for name, values in enums.items():
        found[name].pop("enum", None)
        if values is not None:
            found[name]["enum"] = list(values)
    return [p for name, p in found.items() if name not in set(remove)]


class Dataset(DatasetPublic):
    """A dataset as the SDK returns it: the API's fields, plus methods bound to the client
    (and tenant) it came from: `ds.download(to=...)`, `ds.update(...)`, `ds.lineage()`."""

    _datasets: Datasets | None = PrivateAttr(default=None)
    _tenant: str | None = PrivateAttr(default=None)

    def _bound(self) -> Datasets:
        if self._datasets is None:
            raise InvalidInputError("this dataset is not bound to a client; use client.datasets")
        return self._datasets

    def download(self, to: str | Path = ".", **options) -> list[Path]:
        """Download the files under `to`, keeping their paths (see `Uploads.download`)."""
        return self._bound().download(self, to=to, tenant=self._tenant, **options)

    def refresh(self) -> Dataset:
        """The dataset as it is now (a new object)."""
        return self._bound().get(self.id, tenant=self._tenant)

    def update(self, **changes) -> Dataset:
        """Change it unless someone else did since this version was read (ConflictError
        then: refresh and apply again). See `Datasets.update` for the fields."""
        changes.setdefault("expected_version", self.version)
        return self._bound().update(self.id, tenant=self._tenant, **changes)

    def archive(self) -> Dataset:
        return self._bound().archive(self.id, tenant=self._tenant)

    def restore(self) -> Dataset:
        return self._bound().restore(self.id, tenant=self._tenant)

    def versions(self) -> list[DatasetVersionPublic]:
        return self._bound().versions(self.id, tenant=self._tenant)

    def lineage(self, **options) -> LineageGraph:
        return self._bound().lineage(self.id, tenant=self._tenant, **options)


class DatasetIterator:
    """Every dataset a query matches, fetched a page at a time as you iterate."""

    def __init__(self, fetch, body: dict) -> None:
        self._fetch = fetch
        self._body = body

    def __iter__(self) -> Iterator[Dataset]:
        cursor = None
        while True:
            page = self._fetch({**self._body, "cursor": cursor})
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                return

    def first_page(self) -> DatasetPage:
        return self._fetch(self._body)

    def count(self) -> int:
        return self._fetch({**self._body, "count": True, "limit": 1}).count or 0

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per dataset: id, name, data_type, tags, then one column per property."""
        pandas = _import_pandas()
        rows = [
            {
                "id": d.short_id,
                "name": d.name,
                "data_type": d.data_type,
                "tags": d.tags,
                "created_at": d.created_at,
                **d.properties,
            }
            for d in self
        ]
        return pandas.DataFrame(rows)


def _import_pandas():
    try:
        import pandas
    except ImportError as e:
        raise ImportError(
            "to_dataframe() needs pandas: pip install 'mantle[pandas]' (or pip install pandas)"
        ) from e
    return pandas


def where_filter(where: dict[str, Any] | None) -> list[dict]:
    """`{"sample": "S1", "depth": {"gte": 30}}` -> filter leaves (equality, or op: value)."""
    leaves = []
    for key, condition in (where or {}).items():
        if isinstance(condition, dict):
            leaves += [{"property": key, "op": op, "value": v} for op, v in condition.items()]
        else:
            leaves.append({"property": key, "op": "eq", "value": condition})
    return leaves


class Datasets(_Resource):
    transfers: Any = None  # the client's Uploads, for upload() and download()

    def bind(self, data: Any, tenant: str | None = None) -> Dataset:
        """A `Dataset` (from an API answer or a DatasetPublic) bound to this client."""
        if isinstance(data, DatasetPublic):
            data = data.model_dump()
        dataset = Dataset.model_validate(data)
        dataset._datasets, dataset._tenant = self, self._tenant(tenant)
        return dataset

    def _page(self, data: Any, tenant: str | None) -> DatasetPage:
        page = DatasetPage.model_validate(data)
        page.items = [self.bind(d, tenant) for d in page.items]
        return page

    def upload(self, paths, *, data_type: str, **options) -> Dataset:
        """Upload files and directories as a new dataset (see `Uploads.upload`)."""
        return self.transfers.upload(paths, data_type=data_type, **options)

    def download(self, ref: str | DatasetPublic, *, to=".", **options):
        """Download a dataset's files (give its id or the dataset itself) in parallel under
        `to`, keeping their paths (see `Uploads.download`); `dataset.download()` does the
        same."""
        ref = ref.short_id if isinstance(ref, DatasetPublic) else str(ref)
        return self.transfers.download(ref, to=to, **options)

    def _path(self, tenant: str | None, *parts: str) -> str:
        return "/".join([f"/api/v1/tenants/{self._tenant(tenant)}/datasets", *parts])

    def query(
        self,
        filter: dict | None = None,
        *,
        type: str | None = None,
        where: dict[str, Any] | list[str] | None = None,
        tags: list[str] | None = None,
        archived: str = "exclude",
        sort: str = "-created_at",
        page_size: int = 100,
        tenant: str | None = None,
    ) -> DatasetIterator:
        """Datasets matching a filter tree and/or `where`, lazily paginated: iterate it, or
        call `.count()`, `.first_page()`, `.to_dataframe()`. `where` is a dict (property ->
        value, or property -> {op: value}) or query-string conditions (["depth>=30"]) that
        the server reads with the data type's property types."""
        if isinstance(where, list):
            return self._search(where, filter, type, tags, archived, sort, page_size, tenant)
        leaves = where_filter(where) + ([filter] if filter else [])
        body = {
            "filter": {"and": leaves} if leaves else None,
            "data_type": type,
            "tags": tags or [],
            "archived": archived,
            "sort": sort,
            "limit": page_size,
        }
        path = self._path(tenant, "query")

        def fetch(page_body: dict) -> DatasetPage:
            return self._page(self._http.request("POST", path, json=page_body), tenant)

        return DatasetIterator(fetch, body)

    def _search(self, where, filter, type, tags, archived, sort, page_size, tenant):
        params: dict[str, Any] = {
            "where": where,
            "tag": tags or [],
            "archived": archived,
            "sort": sort,
            "limit": page_size,
        }
        if type is not None:
            params["type"] = type
        if filter is not None:
            params["filter"] = json.dumps(filter)
        path = self._path(tenant)

        def fetch(page: dict) -> DatasetPage:
            query = {k: v for k, v in page.items() if v is not None}
            return self._page(self._http.request("GET", path, params=query), tenant)

        return DatasetIterator(fetch, params)

    list = query  # `client.datasets.list(type="fastq_pair", where={"sample": "S1"})`

    def to_dataframe(self, filter: dict | None = None, **query) -> pandas.DataFrame:
        return self.query(filter, **query).to_dataframe()

    def get(self, dataset: str | uuid.UUID, *, tenant: str | None = None) -> Dataset:
        data = self._http.request("GET", self._path(tenant, str(dataset)))
        return self.bind(data, tenant)

    def create(
        self,
        name: str,
        data_type: str,
        properties: dict | None = None,
        *,
        files: list[dict] | None = None,
        tags: list[str] | None = None,
        tenant: str | None = None,
    ) -> Dataset:
        """A dataset over files already in object storage (your write area or a read bucket)."""
        body = {
            "name": name,
            "data_type": data_type,
            "properties": properties or {},
            "files": files or [],
            "tags": tags or [],
        }
        return self.bind(self._http.request("POST", self._path(tenant), json=body), tenant)

    def update(
        self,
        dataset: str | uuid.UUID,
        *,
        expected_version: int | None = None,
        tenant: str | None = None,
        **changes,
    ) -> Dataset:
        """`properties={...}` (merged; None removes), `name=`, `tags=`, `add_tags=`,
        `remove_tags=`, `files=`. With `expected_version`, a newer version raises ConflictError."""
        body = {**changes, "expected_version": expected_version}
        data = self._http.request("PATCH", self._path(tenant, str(dataset)), json=body)
        return self.bind(data, tenant)

    def archive(self, dataset: str | uuid.UUID, *, tenant: str | None = None) -> Dataset:
        data = self._http.request("POST", self._path(tenant, str(dataset), "archive"))
        return self.bind(data, tenant)

    def restore(self, dataset: str | uuid.UUID, *, tenant: str | None = None) -> Dataset:
        data = self._http.request("POST", self._path(tenant, str(dataset), "restore"))
        return self.bind(data, tenant)

    def versions(self, dataset: str | uuid.UUID, *, tenant: str | None = None):
        data = self._http.request("GET", self._path(tenant, str(dataset), "versions"))
        return TypeAdapter(list[DatasetVersionPublic]).validate_python(data)

    def version(self, dataset: str | uuid.UUID, version: int, *, tenant: str | None = None):
        path = self._path(tenant, str(dataset), "versions", str(version))
        return DatasetVersionPublic.model_validate(self._http.request("GET", path))

    def lineage(
        self,
        dataset: str | uuid.UUID,
        *,
        depth: int = 3,
        direction: str = "both",
        tenant: str | None = None,
    ) -> LineageGraph:
        params = {"depth": depth, "direction": direction}
        data = self._http.request("GET", self._path(tenant, str(dataset), "lineage"), params=params)
        return LineageGraph.model_validate(data)

    def export(
        self,
        format: str = "csv",
        *,
        type: str | None = None,
        where: list[str] | None = None,
        tags: list[str] | None = None,
        filter: dict | None = None,
        columns: str | None = None,
        path: str | Path | None = None,
        tenant: str | None = None,
    ) -> str | None:
        """The selection as CSV/TSV/JSON text, or written to `path` (streamed) when given.
        `where` uses the query-string form: ["sample=S1", "depth>=30"]."""
        params: dict[str, Any] = {"format": format, "where": where or [], "tag": tags or []}
        for key, value in (("type", type), ("columns", columns)):
            if value is not None:
                params[key] = value
        if filter is not None:
            params["filter"] = json.dumps(filter)
        chunks = self._http.stream("GET", self._path(tenant, "export"), params=params)
        if path is None:
            return "".join(chunk.decode() for chunk in chunks)
        with Path(path).open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        return None


class Activities(_Resource):
    def record(
        self,
        kind: str = "manual",
        *,
        inputs: list[str] | None = None,
        outputs: list[str] | None = None,
        details: dict | None = None,
        tenant: str | None = None,
    ) -> ActivityPublic:
        """Record lineage for work done outside Mantle."""
        if not inputs and not outputs:
            raise InvalidInputError("an activity needs at least one input or output dataset")
        body = {"kind": kind, "inputs": inputs or [], "outputs": outputs or [], "details": details}
        path = f"/api/v1/tenants/{self._tenant(tenant)}/activities"
        return ActivityPublic.model_validate(
            self._http.request("POST", path, json={k: v for k, v in body.items() if v is not None})
        )

    def get(self, activity_id: str | uuid.UUID, *, tenant: str | None = None) -> ActivityPublic:
        path = f"/api/v1/tenants/{self._tenant(tenant)}/activities/{activity_id}"
        return ActivityPublic.model_validate(self._http.request("GET", path))
