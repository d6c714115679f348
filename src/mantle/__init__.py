"""Mantle: a self-hosted data platform for biotech.

The SDK's public names are re-exported here: `mantle.Client(url, token)` and the exception
tree its calls raise. `Client` is loaded on first use (PEP 562), so that `import mantle` for
the CLI or the server does not pay for httpx and the SDK's models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mantle._version import __version__
from mantle.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    MantleError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
)

if TYPE_CHECKING:
    from mantle.client import Client


def __getattr__(name: str) -> type:
    if name == "Client":
        from mantle.client import Client

        return Client
    raise AttributeError(f"module 'mantle' has no attribute {name!r}")


__all__ = [
    "AuthenticationError",
    "Client",
    "ConflictError",
    "InvalidInputError",
    "MantleError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "__version__",
]
