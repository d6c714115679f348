"""Small URL helpers shared by the server and the launcher."""

from __future__ import annotations

import re

_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def redact_credentials(text: str) -> str:
    """`text` with the `user:password@` (or `token@`) of every URL in it replaced by `***@`:
    for messages and logs that quote a repository URL or git's output."""
    return _CREDENTIALS.sub(r"\1***@", text)
