"""Mantle's Python SDK: `mantle.Client(url, token)`.

Implementation lives in private modules; the public names are re-exported here and listed in
`__all__` (a test checks it).
"""

from mantle.client._client import Client
from mantle.client._resources import Tenants, Tokens, Users

__all__ = ["Client", "Tenants", "Tokens", "Users"]
