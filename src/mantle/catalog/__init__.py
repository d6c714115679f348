"""The data catalog: data types (`types.py`, values checked by `properties.py`), datasets with
version history (`datasets.py`) whose files live in allowed places (`locations.py`), queries
(`query.py`), exports (`export.py`) and lineage (`lineage.py`). `Catalog` wires them up."""

from mantle.catalog.service import Catalog

__all__ = ["Catalog"]
