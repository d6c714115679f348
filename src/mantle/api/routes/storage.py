"""Serves the presigned URLs of the file object store: `/storage/o/{key}`.

No login: the URL's signature is the credential (see `mantle.storage.signing`). GET streams
an object (one `Range` gives 206 + Content-Range), always as a download: an uploaded HTML file
must never run as a page of this origin (it could read the CSRF cookie). PUT stores a whole
object (`op=put`; 412 if the URL is create-only and the object exists) or one part of a
multipart upload (`op=part`), streaming the body into the store. The root store is
`request.app.state.object_store`; it must expose its `UrlSigner` as `.signer` (the file store
does). Errors are `{"error": {...}}` JSON even without the app's global handlers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.utils import format_datetime

from anyio import from_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from mantle.api.errors import error_responses
from mantle.checksums import verified_crc32
from mantle.errors import (
    InvalidInputError,
    MantleError,
    NotFoundError,
    PermissionDeniedError,
    http_status_for,
)
from mantle.storage.base import ObjectInfo, ObjectStore, attachment_disposition
from mantle.storage.signing import SIGNED_URL_PATH, SignedGrant, UrlSigner

# Browsers only let an upload page read these if CORS exposes them; the app's CORS
# middleware should list them in `expose_headers`.
EXPOSED_HEADERS = ["ETag", "Content-Range", "Content-Length", "Accept-Ranges"]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# Stored bytes are whatever a user uploaded: never sniffed, never rendered, never scripted.
STORED_OBJECT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class _StorageRoute(APIRoute):
    """Answers Mantle errors as JSON here, so the routes are correct in any app."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except MantleError as error:
                return JSONResponse(error.to_payload(), status_code=http_status_for(error))

        return guarded


router = APIRouter(
    tags=["storage"], route_class=_StorageRoute, responses=error_responses(400, 403, 404)
)


def _store(request: Request) -> ObjectStore:
    return request.app.state.object_store


def _verified(request: Request, key: str, *ops: str) -> SignedGrant:
    signer: UrlSigner | None = getattr(_store(request), "signer", None)
    if signer is None:
        raise NotFoundError("this server's object store does not serve signed URLs")
    grant = signer.verify(key, request.query_params)
    if grant.op not in ops:
        raise PermissionDeniedError(f"this signed URL does not allow {request.method}")
    return grant


@router.get(SIGNED_URL_PATH + "{key:path}")
def download(key: str, request: Request) -> Response:
    grant = _verified(request, key, "get")
    store = _store(request)
    info = store.head(key)
    headers = _object_headers(info, grant)
    wanted = _requested_range(request.headers.get("range"), info.size)
    if wanted == "unsatisfiable":
        error = InvalidInputError(f"the requested range is outside {key!r} ({info.size} bytes)")
        return JSONResponse(
            error.to_payload(), status_code=416, headers={"Content-Range": f"bytes */{info.size}"}
        )
    if wanted is None:
        body = store.get(key)
        return StreamingResponse(body, headers=headers, media_type=info.content_type)
    start, end = wanted
    body = store.get(key, byte_range=(start, end))
    headers |= {
        "Content-Length": str(end - start + 1),
        "Content-Range": f"bytes {start}-{end}/{info.size}",
    }
    return StreamingResponse(body, status_code=206, headers=headers, media_type=info.content_type)


# The one route exempt from the app's small body limit (`api/body_limit.py` allows it S3's
# 5 GiB): the body is streamed chunk by chunk into the store (`_body_chunks`), never held whole.
@router.put(SIGNED_URL_PATH + "{key:path}", responses=error_responses(412))
async def upload(key: str, request: Request) -> Response:
    grant = _verified(request, key, "put", "part")
    store = _store(request)
    chunks = _body_chunks(request.stream())
    if grant.crc32 is not None:
        # Checked as the last chunk arrives, before the store keeps anything (S3's BadDigest).
        chunks = verified_crc32(chunks, grant.crc32, key)
    if grant.op == "part":
        etag = await run_in_threadpool(
            store.upload_part, key, grant.upload_id, grant.part_number, chunks
        )
    else:
        content_type = _upload_content_type(grant, request.headers.get("content-type"))
        put = store.put_new if grant.create_only else store.put
        info = await run_in_threadpool(put, key, chunks, content_type=content_type)
        etag = info.etag
    return Response(
        status_code=200, headers={"ETag": f'"{etag}"', "Access-Control-Expose-Headers": "ETag"}
    )


def _body_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body as a blocking iterator for the store, which runs in a worker thread:
    each chunk is pulled from the event loop on demand, so nothing is buffered whole."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


def _upload_content_type(grant: SignedGrant, sent: str | None) -> str | None:
    # Like S3: a URL signed for a content type only accepts uploads declaring that type.
    if grant.content_type is None:
        return sent
    if sent is not None and sent != grant.content_type:
        raise PermissionDeniedError(
            f"this URL was signed for Content-Type {grant.content_type!r}, not {sent!r}"
        )
    return grant.content_type


def _object_headers(info: ObjectInfo, grant: SignedGrant) -> dict[str, str]:
    filename = grant.filename or info.key.rsplit("/", 1)[-1]
    return {
        "Content-Length": str(info.size),
        "ETag": f'"{info.etag}"',
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Disposition": attachment_disposition(filename),
        **STORED_OBJECT_HEADERS,
    }


def _requested_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, end) for one satisfiable `Range`, "unsatisfiable", or None to send it all.
    Multiple ranges and malformed headers are ignored, as RFC 9110 allows."""
    match = _RANGE.fullmatch((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end
