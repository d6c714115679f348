"""Executor tests: the Batch emulator (and the moto server its logs go to)."""

from tests.batch_emulator.fixtures import batch_emulator, moto_server  # noqa: F401
