"""pytest fixtures for the Batch emulator; import them by name into a conftest:

    from tests.batch_emulator.fixtures import batch_emulator, moto_server  # noqa: F401

`batch_emulator` is a fresh emulator for each test (its own jobs, definitions and faults),
writing job output to the session's moto server (`moto_server`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.aws import MotoServer, moto_server  # noqa: F401 - re-exported fixture
from tests.batch_emulator.server import BatchEmulator, running_emulator


@pytest.fixture
def batch_emulator(moto_server: MotoServer) -> Iterator[BatchEmulator]:  # noqa: F811
    with running_emulator(moto_server.endpoint_url, region=moto_server.region) as emulator:
        yield emulator
