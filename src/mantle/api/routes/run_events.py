"""A run's weblog endpoint: Nextflow (`-with-weblog URL`) posts its progress events here.

`POST /api/v1/runs/{run_id}/weblog?token=SECRET`. No user signs in: the per-run secret in
the URL is the credential (`runs.events`), so there is no session, CSRF or tenant in the
path. A wrong secret answers like an unknown run (404), a finished run answers 410, and the
secret never appears in a response or a log line (the access log redacts `token`).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from mantle.api.deps import Db
from mantle.api.errors import error_responses
from mantle.errors import InvalidInputError, RequestTooLargeError
from mantle.runs import events, transitions

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
# Documented, not parsed by FastAPI: the body is read under the endpoint's own size limit.
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event"],
    "properties": {
        "event": {"type": "string", "description": "started, process_submitted, "
                  "process_started, process_completed, error or completed"},
        "runName": {"type": "string"},
        "runId": {"type": "string"},
        "utcTime": {"type": "string"},
        "trace": {"type": "object", "description": "the task (process_* events)"},
        "metadata": {"type": "object", "description": "the workflow (started, completed)"},
    },
}  # fmt: skip


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(f"a weblog event is at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestTooLargeError(f"a weblog event is at most {limit} bytes")
    return bytes(body)


@router.post(
    "/{run_id}/weblog",
    status_code=204,
    responses=error_responses(404, 410, 413, 422),
    summary="Receive one Nextflow weblog event",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": EVENT_SCHEMA}}}
    },
)
async def post_weblog_event(
    run_id: str,
    request: Request,
    db: Db,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Nextflow's JSON event (`event`, `runName`, `runId`, `utcTime`, `trace`, `metadata`)."""
    limit = request.app.state.settings.runs.events_max_body_bytes
    raw = await _body(request, limit)
    try:
        event = events.check_event(json.loads(raw or b"null"))
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInputError("a weblog event must be a JSON object") from e

    def record() -> None:
        with db.session() as session:
            run = events.authorized_run(session, run_id, token)
            events.apply_event(session, run, event, transitions.move)

    await run_in_threadpool(record)
    return Response(status_code=204)
