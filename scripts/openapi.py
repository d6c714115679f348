"""Prints the server's OpenAPI document (JSON): the web app's API types are generated from it
(scripts/build-ui), so a change of the API that breaks the UI fails the UI's build."""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["MANTLE_DATA_DIR"] = data_dir
        from mantle.app import create_app
        from mantle.settings import Settings

        app = create_app(Settings())
        json.dump(app.openapi(), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
