"""`python -m mantle.launcher RUN_DIR_URL`: run one run directory, exit with the engine's code."""

from __future__ import annotations

import sys

from mantle.launcher.main import main

if __name__ == "__main__":
    sys.exit(main())
