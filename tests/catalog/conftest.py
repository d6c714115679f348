"""Catalog test helpers: settings with a read bucket, a tenant member with an API token,
and shortcuts to create datasets through the API (on SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from mantle.settings import Settings
from tests.conftest import make_settings
from tests.factories import Member

READ_BUCKET = "s3://lab-reads/runs/"


@pytest.fixture
def settings(tmp_path, migrated_url) -> Settings:
    return make_settings(tmp_path, migrated_url, catalog={"read_buckets": [READ_BUCKET]})


@dataclass
class Lab:
    """One tenant as its member sees it through the API."""

    api: TestClient
    member: Member
    tenant_id: str
    store: object  # the tenant's write area

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.member.tenant}"

    def request(self, method: str, path: str, **kwargs):
        return self.api.request(method, self.base + path, headers=self.member.headers, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def stored_uri(self, key: str, data: bytes = b"@r\nACGT\n+\nIIII\n") -> str:
        self.store.put(key, data)
        return self.store.uri(key)

    def pair(self, sample: str, *, tags=(), name: str | None = None, **extra) -> dict:
        body = {
            "name": name or f"{sample} reads",
            "data_type": "fastq_pair",
            "properties": {
                "sample": sample,
                "read1": f"{READ_BUCKET}{sample}_R1.fastq.gz",
                "read2": f"{READ_BUCKET}{sample}_R2.fastq.gz",
                **extra,
            },
            "tags": list(tags),
        }
        return self.ok("POST", "/datasets", 201, json=body)


def make_lab(factory, api, app, slug: str, email: str, role: str = "owner") -> Lab:
    member = factory.member(slug, email, role)
    tenant = api.get(f"/api/v1/tenants/{slug}", headers=member.headers).json()
    store = app.state.object_store.scoped(f"tenants/{tenant['id']}/")
    return Lab(api=api, member=member, tenant_id=tenant["id"], store=store)


@pytest.fixture
def lab(factory, api, app) -> Lab:
    return make_lab(factory, api, app, "acme", "alice@example.com")
