"""Input the database cannot hold answers 422 with a message naming the problem, never a 500
(issue #8, security 10): case-mismatched type names, crafted cursors, huge integers, dates
out of range, NUL characters; on SQLite and PostgreSQL. Also: the spec documents the errors."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import text

from mantle.errors import InvalidInputError

BASE = "/api/v1/tenants/acme"
HUGE = "99999999999999999999"


def _cursor(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.fixture
def owner(factory):
    member = factory.member("acme", "owner@example.com", "owner")
    return member


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("GET", "/datasets?type=Fastq", None, "type: String should match pattern"),
        ("GET", "/datasets/export?type=Fastq", None, "type: String should match pattern"),
        (
            "POST",
            "/uploads",
            {"name": "x", "data_type": "Fastq", "files": [{"name": "a", "size": 1}]},
            "data_type",
        ),  # fmt: skip
        (
            "GET",
            f"/datasets?cursor={_cursor({'s': '-created_at', 'v': 1, 'n': 1})}",
            None,
            "cursor",
        ),  # fmt: skip
        (
            "GET",
            f"/datasets?cursor={_cursor({'s': '-created_at', 'v': 'x', 'n': 1})}",
            None,
            "cursor",
        ),  # fmt: skip
        ("GET", f"/datasets?cursor={_cursor({'s': 'id', 'n': 2**40})}&sort=id", None, "cursor"),
        ("GET", f"/datasets?cursor={'W' * 2000}", None, "cursor"),
        ("GET", f"/datasets/DS-000001/versions/{HUGE}", None, "version"),
        ("GET", f"/data-types/fastq/versions/{HUGE}", None, "version"),
        ("GET", "/datasets/DS-9999999999", None, "not found"),
        (
            "POST",
            "/datasets/query",
            {"filter": {"field": "id", "value": "DS-9999999999"}},
            "'id' compares",
        ),  # fmt: skip
        (
            "GET",
            f"/datasets?type=fastq_pair&where=sample={HUGE}&where=depth>={HUGE}",
            None,
            "filter",
        ),  # fmt: skip
        (
            "POST",
            "/datasets/query",
            {"filter": {"property": "depth", "op": "gte", "value": 10**30}},
            "2**63",
        ),  # fmt: skip
        ("GET", "/datasets?created_after=0000-01-01", None, "ISO 8601"),
        ("GET", "/datasets?created_after=99999-01-01", None, "ISO 8601"),
        ("GET", "/datasets?created_before=0001-01-01T00:00:00%2B23:59", None, "years 1 and 9999"),
        ("POST", "/tokens", {"name": "t", "expires_at": "9999-12-31T23:59:59-23:59"}, "9999"),
        ("GET", "/datasets?q=a%00b", None, "q: text cannot contain NUL"),
        ("GET", "/datasets?where=sample=a%00b", None, "where: text cannot contain NUL"),
        (
            "POST",
            "/data-types",
            {"name": "x", "description": "a\x00b"},
            "description: text cannot contain NUL",
        ),  # fmt: skip
        ("POST", "/datasets/query", {"filter": {"property": "s", "value": "\x00"}}, "filter.value"),
        ("POST", "/datasets/query", {"filter": {"a\x00": 1}}, "filter: text cannot contain NUL"),
    ],
)
def test_bad_input_is_422_with_a_message(api, owner, method, path, body, says):
    response = api.request(method, BASE + path, json=body, headers=owner.headers)
    assert response.status_code in (404, 422), response.text
    assert says in response.json()["error"]["message"]


def test_nul_in_the_unauthenticated_login_email_and_form(api):
    body = {"email": "a\x00@example.com", "password": "x"}
    response = api.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422
    assert (
        response.json()["error"]["message"] == "email: text cannot contain NUL (\\x00) characters"
    )
    form = api.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert form.status_code == 422


def test_nul_in_a_cookie_or_path(api, owner):
    api.cookies.set("mantle_session", "a\x00b")
    assert api.get("/api/v1/me").status_code == 422
    api.cookies.clear()
    assert api.get(f"{BASE}/datasets/DS%00", headers=owner.headers).status_code == 422


def test_binary_bodies_are_not_inspected(api):
    # An object upload may hold any bytes; only its signature decides (403 here).
    response = api.put("/storage/o/tenants/x/a.bin", content=b'"\\u0000"\x00')
    assert response.status_code == 403


def test_database_value_errors_become_invalid_input(database):
    too_big = 2**40 if database.url.startswith("postgresql") else 2**70  # int4; SQLite's 64 bits
    with pytest.raises(InvalidInputError, match="out of range"), database.session() as session:
        session.execute(text("SELECT CAST(:n AS INTEGER) + 1"), {"n": too_big})


def test_other_database_errors_stay_server_errors(database):
    with pytest.raises(Exception) as raised, database.session() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, InvalidInputError)


def test_spec_documents_error_responses_with_the_real_body(api):
    spec = api.get("/openapi.json").json()
    operations = {
        (method.upper(), path): op
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    body = {"$ref": "#/components/schemas/ErrorBody"}

    def documented(method: str, path: str) -> set[str]:
        responses = operations[(method, path)]["responses"]
        errors = {code for code in responses if code >= "400"}
        assert all(responses[c]["content"]["application/json"]["schema"] == body for c in errors)
        return errors

    assert documented("GET", "/api/v1/tenants/{tenant}/datasets") == {"401", "403", "404", "422"}
    assert documented("PATCH", "/api/v1/tenants/{tenant}/datasets/{dataset}") == {
        "401", "403", "404", "409", "422"
    }  # fmt: skip
    assert {"401", "422", "429"} <= documented("POST", "/api/v1/auth/login")
    assert (
        "Retry-After" in operations[("POST", "/api/v1/auth/login")]["responses"]["429"]["headers"]
    )
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's, not ours
    assert all("422" in op["responses"] for op in operations.values())
