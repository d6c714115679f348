"""`client.environments` over an injected transport: what goes on the wire (the real secret,
once, to the server; only the fields set on update) and what comes back."""

from __future__ import annotations

import json

import httpx

from mantle import Client
from mantle.schemas.environments import EnvironmentCreate
from tests.aws_env.conftest import KEY_ID, SECRET, env_public


def client(seen: list[httpx.Request], answer) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return Client(
        "http://mantle.test", "mtk_x", tenant="acme", transport=httpx.MockTransport(handler)
    )


def public_json() -> dict:
    return json.loads(env_public().model_dump_json())


def test_create_sends_the_secret_itself_and_returns_no_secret() -> None:
    seen: list[httpx.Request] = []
    api = client(seen, lambda _r: httpx.Response(201, json=public_json()))
    data = EnvironmentCreate(
        name="prod",
        region="us-east-1",
        account_id="123456789012",
        credentials={"kind": "keys", "access_key_id": KEY_ID, "secret_access_key": SECRET},
        write_bucket="acme-mantle",
        head_queue="head",
    )
    created = api.environments.create(data)
    sent = json.loads(seen[0].content)
    assert seen[0].url.path == "/api/v1/tenants/acme/environments"
    assert sent["credentials"] == {
        "kind": "keys",
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
    }
    assert SECRET not in repr(created) and created.credentials.access_key_id_last4 == "EY42"


def test_update_sends_only_what_changes() -> None:
    seen: list[httpx.Request] = []
    api = client(seen, lambda _r: httpx.Response(200, json=public_json()))
    api.environments.update("prod", {"head_vcpus": 8})
    assert seen[0].method == "PATCH" and json.loads(seen[0].content) == {"head_vcpus": 8}


def test_default_and_actions_paths() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/doctor"):
            return httpx.Response(200, json={"environment": "prod", "ok": True, "checks": []})
        if path.endswith("/provision"):
            body = {"environment": "prod", "dry_run": True, "changed": False, "actions": []}
            return httpx.Response(200, json=body)
        if path.endswith("/setup-kit"):
            return httpx.Response(200, json={"environment": "prod", "files": {"a.json": "{}"}})
        return httpx.Response(200, json=[public_json()])

    api = client(seen, answer)
    assert api.environments.default().name == "prod"
    assert api.environments.doctor("prod").ok
    assert api.environments.provision("prod", dry_run=True).dry_run
    assert api.environments.setup_kit("prod").files == {"a.json": "{}"}
    assert json.loads(seen[2].content)["dry_run"] is True
