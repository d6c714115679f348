"""Maps Mantle's exception tree (and FastAPI's own errors) to JSON error responses.

Body: {"error": {"code": ..., "message": ..., "details": ...}}. User input never yields a 500;
an unexpected exception is logged with its traceback and answered with a generic message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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
