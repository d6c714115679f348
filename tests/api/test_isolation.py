"""Tenant isolation, checked on every registered route.

The test walks the app's routes, so a route added later is covered without editing this file:
- a member of tenant A calling any `/tenants/{tenant}/...` route with B's slug gets 404;
- calling it on A's own slug with the id of one of B's objects also gets 404;
- and no response leaks B's names.
A new path parameter or request body needs an entry in OBJECT_FACTORIES / SAMPLE_BODIES; the
test fails loudly until it has one, rather than silently skipping the route.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from mantle.catalog import imports
from mantle.db.models import SqlPipeline, SqlPipelineVersion, SqlRun
from mantle.db.repositories import tenants as tenant_repo
from mantle.jobs import queue
from mantle.web import routes as web_routes

# Routes that are deliberately not tenant-scoped: (method, path).
NOT_TENANT_SCOPED = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/invitations/accept"),
    ("POST", "/api/v1/invitations/signup"),
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    # Nextflow's weblog: authenticated by the run's own secret, not a user (tests/runs_monitor).
    ("POST", "/api/v1/runs/{run_id}/weblog"),
}

# How to make one of tenant B's objects for a path parameter: factory(fixture_state) -> id.
OBJECT_FACTORIES = {
    "token_id": lambda world: world["b_token_id"],
    "user_id": lambda world: world["b_owner_id"],
    "invitation_id": lambda world: world["b_invitation_id"],
    "data_type": lambda world: "bob_type",
    "dataset": lambda world: world["b_dataset_id"],
    "version": lambda world: 1,
    "activity": lambda world: world["b_activity_id"],
    "environment": lambda world: world["b_environment"],
    "upload_id": lambda world: world["b_upload_id"],
    "import_id": lambda world: world["b_import_id"],
    "bucket": lambda world: "bob-raw-data",
    "ref": lambda world: world["b_pipeline_id"],  # a pipeline; by id, as names repeat
    "run": lambda world: world["b_run_id"],
}

SAMPLE_BODIES = {
    "TenantUpdate": {"name": "Renamed"},
    "InvitationCreate": {"email": "bob@example.com", "role": "viewer"},
    "MemberUpdate": {"role": "viewer"},
    "TokenCreate": {"name": "probe"},
    "DataTypeCreate": {"name": "probe_type"},
    "DataTypeUpdate": {"description": "probe"},
    "DatasetCreate": {"name": "probe", "data_type": "file"},
    "DatasetUpdate": {"name": "probe"},
    "DatasetQuery": {},
    "ActivityCreate": {"kind": "manual"},
    "EnvironmentCreate": {
        "name": "probe",
        "region": "us-east-1",
        "credentials": {"kind": "role", "role_arn": "arn:aws:iam::123456789012:role/probe"},
        "write_bucket": "probe-bucket",
        "head_queue": "probe",
    },
    "EnvironmentUpdate": {"head_vcpus": 4},
    "ProvisionRequest": {"dry_run": True},
    "UploadCreate": {"name": "probe", "data_type": "file", "files": [{"name": "a", "size": 1}]},
    "PartUrlsRequest": {"file_id": "00000000-0000-0000-0000-000000000000", "part_numbers": [1]},
    "PartUrlsBatchRequest": {
        "parts": [{"file_id": "00000000-0000-0000-0000-000000000000", "part_number": 1}]
    },
    "UploadComplete": {},
    "ImportCreate": {"bucket": "bob-raw-data", "data_type": "file", "patterns": {"files": "."}},
    "PipelineCreate": {"repository": "https://127.0.0.1:9/probe.git", "name": "probe"},
    "LaunchRequest": {"pipeline": "probe"},
    "CancelRequest": {},
    "RelaunchRequest": {},
}

# Web pages take forms; one form with every field any page reads (extra fields are ignored).
SAMPLE_FORM = {"name": "probe", "email": "bob@example.com", "role": "viewer", "scope": "read"}

B_SECRETS = ("beta-labs", "bob@example.com", "carol@example.com")


def tenant_routes(app) -> list[tuple[str, APIRoute]]:
    """Every (method, route) the app serves, including those of included routers."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.extend((method, route) for method in sorted(route.methods - {"HEAD"}))
    assert len(found) > 10, "the route walker found too few routes"
    return found


@pytest.fixture
def world(factory, api):
    alice = factory.member("acme", "alice@example.com", "owner")
    bob = factory.member("beta-labs", "bob@example.com", "owner")
    b_token = api.post(
        "/api/v1/tenants/beta-labs/tokens", json={"name": "bob-secret"}, headers=bob.headers
    ).json()
    b_invitation = api.post(
        "/api/v1/tenants/beta-labs/invitations",
        json={"email": "carol@example.com"},
        headers=bob.headers,
    ).json()
    factory.browser_login("alice@example.com")  # web pages use alice's session cookie
    return {
        "alice": alice,
        "bob": bob,
        "b_token_id": b_token["id"],
        "b_owner_id": bob.user_id,
        "b_invitation_id": b_invitation["id"],
        **_b_catalog(api, bob),
        **_b_environment(api, bob),
        **_b_transfers(api, bob, factory),
        **_b_pipeline(api, bob),
        **_b_run(factory),
    }


def _b_pipeline(api, bob) -> dict:
    """B's copy of the built-in pipeline (every tenant has its own)."""
    found = api.get("/api/v1/tenants/beta-labs/pipelines/fastq-stats", headers=bob.headers)
    assert found.status_code == 200, found.text
    return {"b_pipeline_id": found.json()["id"]}


def _b_run(factory) -> dict:
    """A run of B's (made in the database: launching needs a pipeline and an executor)."""
    with factory.db.session() as session:
        tenant = tenant_repo.get_by_slug(session, "beta-labs")
        pipeline = SqlPipeline(tenant_id=tenant.id, name="b-pipe", engine="script")
        session.add(pipeline)
        session.flush()
        version = SqlPipelineVersion(pipeline_id=pipeline.id, tenant_id=tenant.id, version=1)
        session.add(version)
        session.flush()
        run = SqlRun(
            tenant_id=tenant.id, number=1, name="b-run", pipeline_id=pipeline.id,
            pipeline_version_id=version.id, executor="local", status="FAILED",
        )  # fmt: skip
        session.add(run)
        session.flush()
        return {"b_run_id": str(run.id)}


def _b_transfers(api, bob, factory) -> dict:
    """B's open upload and an import job of B's."""
    upload = api.post(
        "/api/v1/tenants/beta-labs/uploads", headers=bob.headers,
        json={"name": "b-upload", "data_type": "file", "files": [{"name": "x", "size": 3}]},
    ).json()  # fmt: skip
    with factory.db.session() as session:
        tenant = tenant_repo.get_by_slug(session, "beta-labs")
        job = queue.enqueue(session, tenant.id, imports.JOB_KIND,
                            {"spec": SAMPLE_BODIES["ImportCreate"]})  # fmt: skip
    return {"b_upload_id": upload["id"], "b_import_id": str(job.id)}


def _b_catalog(api, bob) -> dict:
    """B's own data type, dataset and lineage activity, for the catalog routes."""
    base = "/api/v1/tenants/beta-labs"
    type_body = {"name": "bob_type", "properties": [{"name": "x", "type": "string"}]}
    assert api.post(f"{base}/data-types", json=type_body, headers=bob.headers).status_code == 201
    dataset = api.post(
        f"{base}/datasets", json={"name": "b-data", "data_type": "bob_type"}, headers=bob.headers
    ).json()
    activity = api.post(
        f"{base}/activities", json={"outputs": [dataset["id"]]}, headers=bob.headers
    ).json()
    return {"b_dataset_id": dataset["id"], "b_activity_id": activity["id"]}


def _b_environment(api, bob) -> dict:
    """B's own AWS environment, for the environment routes."""
    body = {**SAMPLE_BODIES["EnvironmentCreate"], "name": "b-env"}
    created = api.post("/api/v1/tenants/beta-labs/environments", json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    return {"b_environment": "b-env"}


def _call(api, method: str, route: APIRoute, url: str, alice):
    if route.path.startswith("/api/"):
        return api.request(method, url, json=_body_for(route), headers=alice.headers)
    form = {**SAMPLE_FORM, "csrf_token": api.cookies["mantle_csrf"]} if method == "POST" else None
    return api.request(method, url, data=form, follow_redirects=False)


def _body_for(route: APIRoute):
    if route.body_field is None:
        return None
    name = route.body_field.type_.__name__ if hasattr(route.body_field, "type_") else None
    name = name or route.body_field.field_info.annotation.__name__
    assert name in SAMPLE_BODIES, f"add a sample body for {name} ({route.path})"
    return SAMPLE_BODIES[name]


def _fill(path: str, tenant: str, world, *, foreign_objects: bool) -> str:
    def value(match: re.Match) -> str:
        param = match.group(1).split(":")[0]
        if param == "tenant":
            return tenant
        assert param in OBJECT_FACTORIES, f"add an object factory for {{{param}}} ({path})"
        return str(OBJECT_FACTORIES[param](world)) if foreign_objects else "0" * 32

    return re.sub(r"\{([^}]+)\}", value, path)


def test_every_api_route_is_tenant_scoped_or_declared(app):
    undeclared = [
        (method, route.path)
        for method, route in tenant_routes(app)
        if "{tenant}" not in route.path
        and (method, route.path) not in NOT_TENANT_SCOPED
        and route.include_in_schema
        and not route.path.startswith(("/storage/", "/docs", "/openapi", "/redoc"))
    ]
    assert undeclared == [], "tenant data must live under /api/v1/tenants/{tenant}/"


def test_member_of_a_gets_404_for_b_on_every_route(app, api, world):
    alice = world["alice"]
    checked = 0
    for method, route in tenant_routes(app):
        if "{tenant}" not in route.path:
            continue
        if route.path in web_routes.APP_PAGES:
            continue  # the web app's index.html, the same for every tenant (no data in it)
        for tenant, foreign in (("beta-labs", True), ("acme", True)):
            if tenant == "acme" and route.path.count("{") == 1:
                continue  # only {tenant}: calling it on A is A's own business
            url = _fill(route.path, tenant, world, foreign_objects=foreign)
            response = _call(api, method, route, url, alice)
            assert response.status_code == 404, (method, url, response.status_code, response.text)
            assert not any(s in response.text for s in B_SECRETS if s != tenant), response.text
            checked += 1
    assert checked >= 9  # sanity: the walker found the tenant routes


def test_b_objects_are_untouched_by_a(api, world):
    bob = world["bob"]
    tokens = api.get("/api/v1/tenants/beta-labs/tokens", headers=bob.headers).json()
    assert all(t["revoked_at"] is None for t in tokens)
    members = api.get("/api/v1/tenants/beta-labs/members", headers=bob.headers).json()
    assert [(m["email"], m["role"]) for m in members] == [("bob@example.com", "owner")]
    invitations = api.get("/api/v1/tenants/beta-labs/invitations", headers=bob.headers).json()
    assert [i["email"] for i in invitations] == ["carol@example.com"]
    assert api.get("/api/v1/tenants/beta-labs", headers=bob.headers).json()["name"] == "beta-labs"


def test_browser_session_of_a_cannot_see_b(api, factory, world):
    factory.browser_login("alice@example.com")
    assert api.get("/api/v1/tenants/beta-labs/members").status_code == 404
    # The web app's page is the same for every tenant (its data comes from the API above).
    page = api.get("/t/beta-labs")
    assert "bob@example.com" not in page.text and "beta" not in page.text
