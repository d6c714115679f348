"""The exception tree and its tables."""

from __future__ import annotations

import pytest

from mantle import errors


@pytest.mark.parametrize(
    ("error", "status", "exit_code"),
    [
        (errors.InvalidInputError("x"), 422, 7),
        (errors.InvalidKeyError("x"), 400, 7),
        (errors.RequestTooLargeError("x"), 413, 7),
        (errors.AuthenticationError("x"), 401, 3),
        (errors.CsrfError("x"), 403, 4),
        (errors.NotFoundError("x"), 404, 5),
        (errors.ConflictError("x"), 409, 6),
        (errors.RateLimitedError("x", retry_after=3), 429, 8),
        (errors.ServiceUnavailableError("x"), 503, 9),
        (errors.MantleError("x"), 500, 1),
    ],
)
def test_http_and_exit_code_tables(error, status, exit_code):
    assert errors.http_status_for(error) == status
    assert errors.exit_code_for(error) == exit_code


def test_payload_round_trip_rebuilds_the_same_class():
    for error in [
        errors.NotFoundError("gone", details={"id": 1}),
        errors.CsrfError("csrf"),
        errors.RequestTooLargeError("use uploads"),
        errors.RateLimitedError("slow", retry_after=7, details={"retry_after": 7}),
    ]:
        rebuilt = errors.error_from_payload(errors.http_status_for(error), error.to_payload())
        assert type(rebuilt) is type(error)
        assert rebuilt.message == error.message and rebuilt.details == error.details
    assert (
        errors.error_from_payload(
            429,
            errors.RateLimitedError("x", retry_after=7, details={"retry_after": 7}).to_payload(),
        ).retry_after
        == 7
    )


def test_unknown_payload_falls_back_on_status():
    assert (
        type(errors.error_from_payload(404, {"error": {"code": "weird"}})) is errors.NotFoundError
    )
    assert type(errors.error_from_payload(502, "<html>")) is errors.MantleError


def test_a_payload_becomes_the_class_that_names_its_code_not_a_subclass():
    import mantle.pipelines.git  # noqa: F401  (defines GitError, an InvalidInputError)
    from mantle.errors import InvalidInputError, error_from_payload

    error = error_from_payload(422, {"error": {"code": "invalid_input", "message": "pick one"}})
    assert type(error) is InvalidInputError and error.message == "pick one"
