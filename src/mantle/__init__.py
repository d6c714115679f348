"""Mantle: a self-hosted data platform for biotech.

The SDK's public names are re-exported here: `mantle.Client(url, token)` and the exception
tree its calls raise.
"""

from mantle._version import __version__
from mantle.client import Client
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
