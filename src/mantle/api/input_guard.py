"""The check every request goes through before its route: text holding NUL characters.

No text column can keep U+0000 (PostgreSQL refuses it outright, in `text` and in `jsonb`),
and no name, email, tag or filter needs one, so it is refused here once, for the path, the
query string, headers, cookies and JSON or form bodies, with a 422 that says where it was,
rather than in every schema. Binary bodies (object uploads) are never read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from mantle.errors import InvalidInputError

NUL = "\x00"


async def refuse_nul_characters(request: Request) -> None:
    loc = _in_request_line(request) or await _in_body(request)
    if loc:
        message = "text cannot contain NUL (\\x00) characters"
        where = ".".join(loc[1:]) or loc[0]
        raise InvalidInputError(f"{where}: {message}", details=[{"loc": loc, "msg": message}])


def _in_request_line(request: Request) -> list[str] | None:
    if NUL in request.scope["path"]:
        return ["path"]
    sources = {
        "query": request.query_params.multi_items(),
        "header": request.headers.items(),
        "cookie": request.cookies.items(),
    }
    for source, pairs in sources.items():
        for name, value in pairs:
            if NUL in name or NUL in value:
                return [source, name.replace(NUL, "")]
    return None


async def _in_body(request: Request) -> list[str] | None:
    """Only bodies the route parses: FastAPI has read them already, so this costs no I/O."""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        texts = [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
        return next((["body", k] for k, v in texts if NUL in k or NUL in v), None)
    try:
        document = await request.json()
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own validation answers
    return next(_nul_paths(document, ["body"]), None)


def _nul_paths(document: Any, root: list[str]) -> Iterator[list[str]]:
    """Where strings (keys or values) hold NUL, walked without recursion (documents may nest
    as deep as the JSON parser allows)."""
    stack: list[tuple[Any, list[str]]] = [(document, root)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                yield path
            continue
        items: Iterable[tuple[Any, Any]] = ()
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        for key, child in items:
            if isinstance(key, str) and NUL in key:
                yield path
            stack.append((child, [*path, str(key).replace(NUL, "")]))
