"""A cap on request bodies, as a pure ASGI middleware (nothing is buffered here).

JSON and form bodies are small; data goes through uploads. Without a cap, one unauthenticated
300 MB JSON body grew the server by 1 GB. A declared `Content-Length` over the limit is refused
before the app runs; a chunked body is counted as it streams and refused at the first chunk
past the limit. The one exception is the local store's signed PUT route, which streams upload
parts (up to S3's 5 GiB) to disk: it gets that limit instead.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mantle.errors import RequestTooLargeError
from mantle.storage.base import MAX_PUT_SIZE
from mantle.storage.signing import SIGNED_URL_PATH


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit. An HTTPException, so
    FastAPI's body parsing lets it through and the app's handler answers 413 as JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int) -> str:
    return (
        f"the request body is larger than this server accepts ({limit} bytes); send files "
        "and other large data through uploads (`mantle upload`, POST /api/v1/uploads)"
    )


def _is_storage_put(scope: Scope) -> bool:
    return scope["method"] == "PUT" and scope["path"].startswith(SIGNED_URL_PATH)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_PUT_SIZE if _is_storage_put(scope) else self.max_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await _send_413(send, limit)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps(RequestTooLargeError(too_large_message(limit)).to_payload()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread body makes the connection unusable
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
