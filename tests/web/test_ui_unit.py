"""The web app's own unit tests (Vitest, `ui/src/**/*.test.ts(x)`), run as one test of the suite
so `make test` covers them and a failure shows Vitest's report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "ui"


def test_vitest_suite_passes():
    assert shutil.which("npx"), "npx is missing: install Node.js 20"
    assert (UI / "node_modules").is_dir(), "run `make ui` (or `make test`) first: it runs npm ci"
    result = subprocess.run(
        ["npx", "vitest", "run", "--reporter=dot"],
        cwd=UI,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "1", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert " passed" in result.stdout
