"""Mantle: a self-hosted data platform for biotech.

The SDK's public names are re-exported here: `mantle.Client(url, token)` and the exception
tree its calls raise.
"""

__version__ = "0.1.0"

from mantle.client import Client  # noqa: E402
from mantle.errors import (  # noqa: E402
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
