"""Maps Mantle's exception tree (and FastAPI's own errors) to JSON error responses, and
describes those responses in the OpenAPI document (`error_responses`).

Body: {"error": {"code": ..., "message": ..., "details": ...}}. User input never yields a 500;
an unexpected exception is logged with its traceback and answered with a generic message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from mantle.errors import InvalidInputError, MantleError, RateLimitedError, http_status_for

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable and machine-readable: invalid_input, not_found...")
    message: str = Field(description="What went wrong and what to do about it.")
    details: Any = Field(
        default=None, description="For invalid input, each problem: {loc: [...], msg: ...}."
    )


class ErrorBody(BaseModel):
    """Every error response of the API."""

    error: ErrorDetail


_ERROR_DESCRIPTIONS = {
    400: "The request cannot be read (an invalid object key, a checksum that does not match).",
    401: "Not authenticated: no token or session, or one that is wrong, expired or revoked.",
    403: "Authenticated, but the role or the token's scope does not allow this (or no CSRF).",
    404: "Not found, or in a tenant the caller is not a member of.",
    409: "Conflicts with the current state: a name in use, or a stale version.",
    410: "It has ended for good (a finished run's event endpoint).",
    412: "A create-only write found the object already there.",
    413: "The request body is larger than the server accepts.",
    422: "A parameter or the body is invalid; `error.details` lists each problem.",
    429: "Too many attempts; retry after the number of seconds in `Retry-After`.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the errors a route can answer, with the body they really have;
    pass it to a router (errors every route shares) or to a route (its own extra ones)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        responses[status] = {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[status]}
        if status == 429:
            responses[status]["headers"] = _RETRY_AFTER
    return responses


# What every route under /tenants/{tenant} can answer: the tenant check alone gives 401/403/404.
TENANT_ERRORS = error_responses(401, 403, 404, 422)
CONFLICT = error_responses(409)


def error_response(error: MantleError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error.to_payload(), status_code=http_status_for(error), headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict]:
    # Drop `input` and `ctx`: they echo what was sent, which may be a password.
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": err.get("msg", "")}
        for err in exc.errors()
    ]


def _validation_message(details: list[dict]) -> str:
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(p for p in first["loc"] if p not in ("body", "query", "path"))
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


HtmlErrorPage = Callable[[Request, MantleError], Response | None]


def install_error_handlers(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    """`html_page` renders errors of browser pages; it returns None for API paths."""

    @app.exception_handler(MantleError)
    async def _mantle_error(request: Request, exc: MantleError) -> Response:
        if http_status_for(exc) >= 500:
            log.error("request failed: %s", exc.message, exc_info=exc)
        page = html_page(request, exc) if html_page else None
        return page or error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        return error_response(InvalidInputError(_validation_message(details), details=details))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        body = {"error": {"code": code, "message": str(exc.detail), "details": None}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error", exc_info=exc)
        error = MantleError("internal error; the server log has the details")
        page = html_page(request, error) if html_page else None
        return page or error_response(error)
