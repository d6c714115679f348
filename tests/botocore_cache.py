"""botocore parses its JSON models (endpoints, each service's API: megabytes) again for every
new session, and the suite makes sessions by the hundred (an S3 store, an environment's
connection, a moto client per test). Here each model file is parsed once per test process.

botocore already shares a parsed model between all clients of a session, so it treats them as
read-only; the one edit it makes while loading (merging a service's "sdk-extras" file into its
model) gives the same result when repeated. If botocore changes this loader, `install` does
nothing and the suite is just slower.
"""

from __future__ import annotations

from typing import Any


def install() -> bool:
    from botocore.loaders import JSONFileLoader

    parse = JSONFileLoader.__dict__.get("load_file")
    if parse is None or getattr(parse, "parsed_once", False):
        return False
    parsed: dict[str, Any] = {}

    def load_file(self, file_path):
        if file_path not in parsed:
            parsed[file_path] = parse(self, file_path)
        return parsed[file_path]

    load_file.parsed_once = True
    JSONFileLoader.load_file = load_file
    return True
