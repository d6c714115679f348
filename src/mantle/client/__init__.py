"""Mantle's Python SDK: `mantle.Client(url, token)`.

Implementation lives in private modules; the public names are re-exported here and listed in
`__all__` (a test checks it).
"""

from mantle.client._catalog import Activities, Dataset, DatasetIterator, Datasets, DataTypes
from mantle.client._client import Client
from mantle.client._environments import Environments
from mantle.client._imports import Imports
from mantle.client._pipelines import Pipelines
from mantle.client._resources import Tenants, Tokens, Users
from mantle.client._runs import Run, Runs
from mantle.client._uploads import Uploads

__all__ = [
    "Activities",
    "Client",
    "DataTypes",
    "Dataset",
    "DatasetIterator",
    "Datasets",
    "Environments",
    "Imports",
    "Pipelines",
    "Run",
    "Runs",
    "Tenants",
    "Tokens",
    "Uploads",
    "Users",
]
