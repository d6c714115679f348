"""The trace the launcher writes for script runs reads like Nextflow's."""

from __future__ import annotations

import pytest

from mantle.launcher import trace_format
from mantle.rundir import DEFAULT_TRACE_FIELDS, parse_trace


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0ms"), (0.35, "350ms"), (1.2, "1.2s"), (5, "5s"), (59.96, "60s"),
        (65, "1m 5s"), (3600, "1h"), (7384, "2h 3m 4s"), (90061, "1d 1h 1m 1s"),
    ],
)  # fmt: skip
def test_durations(seconds, shown):
    assert trace_format.duration(seconds) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0"), (512, "512 B"), (1536, "1.5 KB"), (12_897_485, "12.3 MB"), (1024**3, "1 GB")],
)
def test_memory(size, shown):
    assert trace_format.memory(size) == shown


def test_timestamps_have_milliseconds():
    assert trace_format.timestamp(1796130000.1234) == "2026-12-01 13:00:00.123"


def test_a_trace_text_parses_back_with_the_default_fields_first():
    text = trace_format.trace_text([{"task_id": 1, "name": "a\tb", "status": "COMPLETED"}])
    [row] = parse_trace(text)
    assert tuple(row)[: len(DEFAULT_TRACE_FIELDS)] == DEFAULT_TRACE_FIELDS
    assert [row[f] for f in ("task_id", "name", "status", "exit")] == ["1", "a b", "COMPLETED", "-"]
