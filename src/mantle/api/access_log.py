"""The server's logging set-up for uvicorn, with signed-URL secrets kept out of the access log.

A presigned URL's query string is a credential until it expires (`sig` on the local store,
`X-Amz-Signature`/`X-Amz-Credential`/`X-Amz-Security-Token` on S3), and uvicorn's access log
prints every request's path with its query string. `RedactSecrets` replaces those values (and
any other token-like parameter) with `REDACTED` before the line is formatted.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

REDACTED = "REDACTED"
# Parameter names that carry credentials, compared case-insensitively.
_SECRET_NAME = re.compile(
    r"sig|.*signature.*|x-amz-credential|x-amz-security-token|.*token.*|.*secret.*"
    r"|.*password.*|api[-_]?key|credentials?",
    re.IGNORECASE,
)
_TOKEN_VALUE = re.compile(r"mtk_\w+")  # Mantle API tokens, wherever they appear


def redact_target(target: str) -> str:
    """A request target (`/path?query`) with secret query values replaced."""
    path, sep, query = target.partition("?")
    if not sep:
        return _TOKEN_VALUE.sub(REDACTED, target)
    pairs = [
        (name, REDACTED if _SECRET_NAME.fullmatch(name) else value)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    redacted = urlencode(pairs, quote_via=quote, safe="/")
    return _TOKEN_VALUE.sub(REDACTED, f"{path}?{redacted}")


class RedactSecrets(logging.Filter):
    """For uvicorn's access records: args are (client, method, target, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging config, with `RedactSecrets` on its access log handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    config["handlers"]["access"].setdefault("filters", []).append("redact_secrets")
    return config
