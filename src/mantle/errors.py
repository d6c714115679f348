"""One exception tree for the whole platform.

Services raise these; the API maps them to HTTP in one table (`HTTP_STATUS`), the SDK turns an
error response back into the same class (`error_from_payload`), and the CLI maps them to exit
codes (`EXIT_CODES`). Third-party errors are translated at the boundary with `raise ... from e`.
Messages are written for the user who has to act on them; they must never contain secrets.
"""

from __future__ import annotations

from typing import Any


class MantleError(Exception):
    """Base of every error Mantle raises on purpose.

    `retryable` says whether trying the same thing again later may succeed (throttling, a 5xx
    from AWS, a dropped connection, a busy database). Background jobs retry only those; any
    other error fails the job at once with its message."""

    code = "internal_error"
    retryable = False

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_payload(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInputError(MantleError):
    """The request is well-formed but its values are not acceptable."""

    code = "invalid_input"


class InvalidKeyError(InvalidInputError):
    """An object-store key that is empty, absolute, has `..` or control characters, or escapes
    its root prefix."""

    code = "invalid_key"


class ChecksumMismatchError(InvalidInputError):
    """Uploaded bytes whose checksum is not the one promised (S3's BadDigest)."""

    code = "checksum_mismatch"


class AuthenticationError(MantleError):
    """No valid credentials: missing, wrong, expired or revoked."""

    code = "unauthenticated"


class PermissionDeniedError(MantleError):
    """Authenticated, a member of the tenant, but the role or token scope does not allow this."""

    code = "permission_denied"


class CsrfError(PermissionDeniedError):
    code = "csrf_failed"


class NotFoundError(MantleError):
    """The object does not exist, or it belongs to a tenant the caller is not a member of."""

    code = "not_found"


class ConflictError(MantleError):
    """The request conflicts with the current state (duplicate name, stale version...)."""

    code = "conflict"


class PreconditionFailedError(ConflictError):
    """A conditional write found its condition false: a create-only PUT to a key that exists."""

    code = "precondition_failed"


class GoneError(ConflictError):
    """The thing existed but has ended for good (a finished run's event endpoint)."""

    code = "gone"


class RateLimitedError(MantleError):
    code = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class RequestTooLargeError(InvalidInputError):
    """A request body past the server's limit; large data goes through uploads."""

    code = "too_large"


class StorageError(MantleError):
    """The object store failed in a way that is not the caller's fault."""

    code = "storage_error"

    def __init__(self, message: str, *, retryable: bool = False, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retryable = retryable


class CloudError(MantleError):
    """A cloud provider (AWS) refused or failed a request made for a tenant; the message says
    what to fix. `retryable` tells a transient failure (throttling, 5xx) from a permanent one."""

    code = "cloud_error"

    def __init__(self, message: str, *, retryable: bool = False, details: Any = None) -> None:
        # `retryable` rides in the details so the SDK can rebuild it from an error response.
        if details is None:
            details = {"retryable": retryable}
        super().__init__(message, details=details)
        self.retryable = retryable or (isinstance(details, dict) and bool(details.get("retryable")))


class ConfigurationError(MantleError):
    """Settings are missing or unsafe; raised at start-up."""

    code = "configuration_error"


class ServiceUnavailableError(MantleError):
    """A service Mantle depends on (the database, the server itself) is briefly unavailable."""

    code = "unavailable"
    retryable = True


HTTP_STATUS: dict[type[MantleError], int] = {
    InvalidInputError: 422,
    RequestTooLargeError: 413,
    InvalidKeyError: 400,
    ChecksumMismatchError: 400,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    PreconditionFailedError: 412,
    GoneError: 410,
    RateLimitedError: 429,
    StorageError: 502,
    CloudError: 502,
    ServiceUnavailableError: 503,
    ConfigurationError: 500,
    MantleError: 500,
}

# Exit codes that scripts can rely on; 2 is left to Typer for usage errors.
EXIT_CODES: dict[type[MantleError], int] = {
    AuthenticationError: 3,
    PermissionDeniedError: 4,
    NotFoundError: 5,
    ConflictError: 6,
    InvalidInputError: 7,
    RateLimitedError: 8,
    ServiceUnavailableError: 9,
    MantleError: 1,
}


def _lookup(table: dict[type[MantleError], int], error: MantleError) -> int:
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return table[MantleError]


def http_status_for(error: MantleError) -> int:
    return _lookup(HTTP_STATUS, error)


def exit_code_for(error: MantleError) -> int:
    return _lookup(EXIT_CODES, error)


def _all_subclasses(cls: type[MantleError]) -> list[type[MantleError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def error_from_payload(status: int, payload: Any) -> MantleError:
    """Rebuild the exception a server raised from its JSON error body (used by the SDK)."""
    body = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        return MantleError(f"HTTP {status}: unexpected error response", details=payload)
    code = body.get("code")
    message = body.get("message") or f"HTTP {status}"
    details = body.get("details")
    # The class that names a code, not a subclass that only inherits it (GitError is an
    # InvalidInputError: an invalid_input from the server is not a git failure).
    by_code: dict[str, type[MantleError]] = {}
    for candidate in [MantleError, *_all_subclasses(MantleError)]:
        if "code" in vars(candidate):
            by_code.setdefault(candidate.code, candidate)
    cls = by_code.get(code)
    if cls is None:
        cls = next((c for c, s in HTTP_STATUS.items() if s == status), MantleError)
    if cls is RateLimitedError:
        return RateLimitedError(
            message, retry_after=int((details or {}).get("retry_after", 1)), details=details
        )
    return cls(message, details=details)
