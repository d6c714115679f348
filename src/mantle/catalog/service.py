"""`Catalog`: the catalog's services wired together once, from the object store and settings.

catalog = Catalog(object_store, settings.catalog)
with db.session() as session:
    ds = catalog.datasets.create(session, access, DatasetCreate(...), origin="upload")
    catalog.lineage.record_activity(session, access, "upload", outputs=[ds.id])
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from mantle.accounts.policy import TenantAccess
from mantle.catalog.datasets import Datasets
from mantle.catalog.lineage import Lineage
from mantle.catalog.locations import FileLocations
from mantle.catalog.types import DataTypes
from mantle.settings import CatalogSettings
from mantle.storage import ObjectStore


class Catalog:
    def __init__(
        self,
        object_store: ObjectStore,
        settings: CatalogSettings,
        *,
        tenant_read_roots: Callable[[Session, TenantAccess], list[str]] | None = None,
    ) -> None:
        self.locations = FileLocations(object_store, settings.read_buckets)
        self.types = DataTypes()
        self.datasets = Datasets(self.types, self.locations)
        if tenant_read_roots is not None:
            self.datasets.tenant_read_roots = tenant_read_roots
        self.lineage = Lineage(self.datasets)
