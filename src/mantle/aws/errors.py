"""Sorting AWS failures: what went wrong (an error code and a message safe to show), and
whether trying again can help (throttling, 5xx, network) or a person must fix something
(access denied, missing resource, bad credentials). Every message passes through `redact`
so a secret that AWS or botocore echoes never reaches a user, a log or a traceback we print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from mantle.errors import CloudError, MantleError

RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "SlowDown", "RequestThrottled", "ServiceUnavailable",
    "ServiceUnavailableException", "InternalError", "InternalFailure", "ServerException",
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
})  # fmt: skip
DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403",
    "AuthorizationError", "UnauthorizedException",
})  # fmt: skip
CREDENTIAL_CODES = frozenset({
    "InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
    "ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException",
    "unauthenticated",
})  # fmt: skip
_MIN_SECRET_LENGTH = 4


@dataclass(frozen=True)
class AwsProblem:
    code: str
    message: str
    retryable: bool

    @property
    def denied(self) -> bool:
        return self.code in DENIED_CODES

    @property
    def bad_credentials(self) -> bool:
        return self.code in CREDENTIAL_CODES

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    return text


def describe(error: BaseException, secrets: Iterable[str] = ()) -> AwsProblem:
    secrets = tuple(secrets)
    if isinstance(error, ClientError):
        return _client_problem(error, secrets)
    if isinstance(error, MantleError):
        retryable = bool(getattr(error, "retryable", False))
        return AwsProblem(error.code, redact(error.message, secrets), retryable)
    if isinstance(error, NoCredentialsError):
        return AwsProblem("NoCredentials", "no AWS credentials were found", False)
    if isinstance(error, EndpointConnectionError | ConnectionError | ReadTimeoutError):
        return AwsProblem("NetworkError", redact(str(error), secrets), True)
    if isinstance(error, BotoCoreError):
        return AwsProblem(type(error).__name__, redact(str(error), secrets), False)
    return AwsProblem(type(error).__name__, redact(str(error), secrets), False)


def _client_problem(error: ClientError, secrets: tuple[str, ...]) -> AwsProblem:
    body = error.response.get("Error", {})
    code = str(body.get("Code") or "Error")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    message = redact(str(body.get("Message") or ""), secrets)
    retryable = code in RETRYABLE_CODES or status == 429 or status >= 500
    return AwsProblem(code, message, retryable)


def cloud_error(
    error: BaseException, doing: str, secrets: Iterable[str] = (), *, denied_hint: str = ""
) -> CloudError:
    """A CloudError for `error` raised while `doing` (e.g. "creating the job queue q");
    `denied_hint` is added when AWS said access denied."""
    problem = describe(error, secrets)
    hint = " (temporary: try again)" if problem.retryable else ""
    if problem.denied and denied_hint:
        hint = f"; {denied_hint}"
    return CloudError(f"AWS failed while {doing}: {problem}{hint}", retryable=problem.retryable)
