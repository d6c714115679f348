"""Schemathesis over the whole OpenAPI document, on SQLite and PostgreSQL: no input, valid or
not, may make the server answer 5xx, and every response must match its documented schema
(error bodies included). Authenticated as a superuser who owns tenant `acme` (with an API
token, so no CSRF header is needed); AWS calls of environments go to the local moto server,
so nothing reaches the network. Bounded and derandomized: the same cases on every run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from mantle.settings import Settings
from tests.aws import moto_server  # noqa: F401
from tests.conftest import make_settings

EXAMPLES_PER_OPERATION = 3  # per generation mode: about 400 requests per database
READ_BUCKET = "s3://lab-reads/runs/"
CHECKS = [not_a_server_error, response_schema_conformance]
# Operations left out, and why (none today: every AWS call goes to moto).
EXCLUDED: dict[str, str] = {}


@pytest.fixture
def settings(tmp_path, migrated_url, moto_server) -> Settings:  # noqa: F811
    return make_settings(
        tmp_path,
        migrated_url,
        catalog={"read_buckets": [READ_BUCKET]},
        aws={"endpoint_url": moto_server.endpoint_url},
    )


# Valid cases name things that exist (random ids would only ever reach the 404); invalid
# cases generate every path parameter but the tenant.
EXISTING = {"tenant": "acme", "dataset": "DS-000001", "data_type": "fastq_pair", "version": 1}


# The cases depend on the schema only, not on the database: each operation's are drawn once
# (the draws are most of this test's time) and sent to the app of each database. A case that
# fails is reported as it was drawn (schemathesis prints it with a curl command to replay it).
_CASES: dict[tuple[str, GenerationMode], list[Case]] = {}


def _cases(operation, mode: GenerationMode) -> list[Case]:
    key = (operation.label, mode)
    if key in _CASES:
        return _CASES[key]
    fixed = EXISTING if mode is GenerationMode.POSITIVE else {"tenant": "acme"}
    in_path = {name: value for name, value in fixed.items() if f"{{{name}}}" in operation.path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=in_path)
    drawn: list[Case] = []

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def draw(case) -> None:
        drawn.append(case)

    try:
        draw()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # No parameters and no body (e.g. GET /healthz): nothing can be made invalid.
    _CASES[key] = drawn
    return drawn


def _fuzz(app, operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    for case in _cases(operation, mode):
        case.call_and_validate(headers=headers, checks=CHECKS, app=app)


def test_whole_api_answers_no_5xx_and_matches_its_schema(app, factory):
    factory.user("fuzz@example.com", superuser=True)
    owner = factory.member("acme", "fuzz@example.com", "owner")
    reads = {f"read{n}": f"{READ_BUCKET}S1_R{n}.fastq.gz" for n in (1, 2)}
    dataset = {"name": "S1", "data_type": "fastq_pair", "properties": {"sample": "S1", **reads}}
    created = factory.api.post("/api/v1/tenants/acme/datasets", json=dataset, headers=owner.headers)
    assert created.status_code == 201, created.text
    assert created.json()["short_id"] == EXISTING["dataset"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    documented = {
        f"{method.upper()} {path}"
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    }
    tested = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(app, operation, mode, owner.headers)
        tested.add(operation.label)
    assert tested == documented - EXCLUDED.keys()
    assert len(tested) >= 60  # the whole API, not a schema that failed to load
