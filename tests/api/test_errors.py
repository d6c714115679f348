"""The JSON error contract: bad input gets a 4xx with an actionable message, never a 500,
and never an echo of a secret."""

from __future__ import annotations


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json()["database"] == "ok"


def test_readiness_fails_when_database_is_gone(settings):
    from fastapi.testclient import TestClient

    from mantle.app import create_app
    from mantle.db.engine import Database

    unreachable = Database("postgresql://postgres@127.0.0.1:1/none")
    with TestClient(create_app(settings, db=unreachable)) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_validation_error_shape_and_no_password_echo(api):
    secret = "hunter2-super-secret"
    response = api.post(
        "/api/v1/auth/login", json={"email": "a@example.com", "password": {"nested": secret}}
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_input"
    assert body["message"].startswith("password")
    assert secret not in response.text


def test_malformed_json_is_422(api):
    response = api.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_unknown_route_and_method(api):
    missing = api.get("/api/v1/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = api.put("/healthz")
    assert wrong_method.status_code == 405


def test_bad_uuid_in_path_is_422(api, factory):
    owner = factory.member("acme", "owner@example.com", "owner")
    response = api.delete("/api/v1/tenants/acme/tokens/not-a-uuid", headers=owner.headers)
    assert response.status_code == 422


def test_openapi_document(api):
    spec = api.get("/openapi.json").json()
    assert "/api/v1/tenants/{tenant}/tokens" in spec["paths"]
    assert api.get("/docs").status_code == 200
