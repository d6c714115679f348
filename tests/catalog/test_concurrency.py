"""Races on both engines: per-tenant short ids from many threads, and concurrent edits of one
dataset (one 409 with a version check; both changes kept without one)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mantle.accounts.policy import Permission, Principal, authorize
from mantle.catalog import Catalog
from mantle.db.repositories import users as user_repo
from mantle.errors import ConflictError, InvalidInputError
from mantle.schemas.catalog import DatasetCreate, DatasetUpdate
from tests.catalog.conftest import READ_BUCKET


@pytest.fixture
def service(app, lab, database):
    catalog = Catalog(app.state.object_store, app.state.settings.catalog)
    with database.session() as s:
        user = user_repo.get_by_email(s, lab.member.email)
        principal = Principal(user_id=user.id, email=user.email, is_superuser=False)
        access = authorize(s, principal, lab.member.tenant, Permission.write)
    return catalog, access


def _pair(sample: str) -> DatasetCreate:
    return DatasetCreate(
        name=sample,
        data_type="fastq_pair",
        properties={
            "sample": sample,
            "read1": f"{READ_BUCKET}{sample}_1.fq",
            "read2": f"{READ_BUCKET}{sample}_2.fq",
        },
    )


def test_short_ids_are_unique_and_gapless_under_concurrency(database, service):
    catalog, access = service
    threads, per_thread = 6, 5

    def create(worker: int) -> list[str]:
        made = []
        for i in range(per_thread):
            with database.session() as s:
                made.append(catalog.datasets.create(s, access, _pair(f"W{worker}-{i}")).short_id)
        return made

    with ThreadPoolExecutor(threads) as pool:
        ids = [i for made in pool.map(create, range(threads)) for i in made]
    assert sorted(ids) == [f"DS-{n:06d}" for n in range(1, threads * per_thread + 1)]


def test_create_many_reserves_one_block(database, service):
    catalog, access = service
    with database.session() as s:
        made = catalog.datasets.create_many(s, access, [_pair("A"), _pair("B")], origin="import")
    assert [(d.short_id, d.origin) for d in made] == [
        ("DS-000001", "import"),
        ("DS-000002", "import"),
    ]


def _race(database, catalog, access, updates: list[DatasetUpdate]) -> list[object]:
    barrier = threading.Barrier(len(updates))

    def run(update: DatasetUpdate):
        barrier.wait()
        try:
            with database.session() as s:
                return catalog.datasets.update(s, access, "DS-000001", update)
        except ConflictError as e:
            return e

    with ThreadPoolExecutor(len(updates)) as pool:
        return list(pool.map(run, updates))


def test_concurrent_edits_with_a_version_check_answer_one_409(database, service):
    catalog, access = service
    with database.session() as s:
        catalog.datasets.create(s, access, _pair("S1"))
    results = _race(
        database,
        catalog,
        access,
        [
            DatasetUpdate(name="by A", expected_version=1),
            DatasetUpdate(name="by B", expected_version=1),
        ],
    )
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    winners = [r for r in results if not isinstance(r, ConflictError)]
    assert len(conflicts) == 1 and len(winners) == 1
    with database.session() as s:
        current = catalog.datasets.get(s, access, "DS-000001")
    assert current.version == 2 and current.name == winners[0].name


def test_concurrent_edits_without_a_version_check_both_land(database, service):
    catalog, access = service
    with database.session() as s:
        catalog.datasets.create(s, access, _pair("S1"))
    results = _race(
        database,
        catalog,
        access,
        [DatasetUpdate(add_tags=["from-a"]), DatasetUpdate(add_tags=["from-b"])],
    )
    assert not any(isinstance(r, ConflictError) for r in results)
    with database.session() as s:
        current = catalog.datasets.get(s, access, "DS-000001")
        history = catalog.datasets.versions(s, access, "DS-000001")
    assert current.version == 3 and set(current.tags) == {"from-a", "from-b"}
    assert [v.version for v in history] == [1, 2, 3]


def test_check_create_validates_without_writing(database, service):
    catalog, access = service
    with database.session() as s:
        catalog.datasets.check_create(s, access, _pair("S1"))
        with pytest.raises(InvalidInputError, match="property 'sample': required"):
            catalog.datasets.check_create(
                s, access, DatasetCreate(name="x", data_type="fastq_pair", properties={})
            )
    with database.session() as s:
        assert catalog.datasets.create(s, access, _pair("S1")).short_id == "DS-000001"
