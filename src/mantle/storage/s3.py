"""The `s3://bucket/optional/prefix` backend over boto3, for AWS and any S3-compatible store.

Every key is stored under the root prefix and every key S3 returns has it stripped, so callers
never see (or reach past) the root. botocore errors are translated here, at the boundary:
a missing object or upload becomes NotFoundError, a refused range or part list
InvalidInputError, anything else StorageError.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from mantle.aws.errors import describe
from mantle.aws.session import client_config, make_session
from mantle.checksums import CRC32
from mantle.errors import (
    InvalidInputError,
    InvalidKeyError,
    MantleError,
    NotFoundError,
    StorageError,
)
from mantle.storage.base import (
    CHUNK_SIZE,
    MAX_PART_NUMBER,
    ListPage,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    attachment_disposition,
    normalize_etag,
)
from mantle.storage.keys import MAX_KEY_BYTES, validate_scope

if TYPE_CHECKING:
    from mantle.storage.registry import StoreOptions

PART_SIZE = 8 * 1024 * 1024  # first part size of streamed puts; doubles every 1000 parts
SINGLE_COPY_LIMIT = 5 * 1024**3  # CopyObject's maximum; larger objects are copied in parts
COPY_PART_SIZE = 512 * 1024 * 1024
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,254}")
_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
_REFUSED_INPUT = {
    "InvalidRange",
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
    "EntityTooLarge",
    "InvalidArgument",
    "InvalidRequest",
}
_CREDENTIAL_PROBLEMS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}


@contextmanager
def _s3_errors(action: str, key: str) -> Iterator[None]:
    # Messages name the action, key and S3's error code; never request headers or keys.
    try:
        yield
    except ClientError as e:
        error = e.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in _NOT_FOUND:
            raise NotFoundError(f"cannot {action} {key!r}: it does not exist") from e
        if code == "KeyTooLongError":  # the root prefix counts toward S3's 1024 bytes
            raise InvalidKeyError(f"{key!r} is too long under this store's root prefix") from e
        if code in _REFUSED_INPUT:
            detail = error.get("Message") or code
            raise InvalidInputError(
                f"cannot {action} {key!r}: {detail}", details={"s3": code}
            ) from e
        hint = (
            "; check the platform's AWS credentials and the bucket policy"
            if code in _CREDENTIAL_PROBLEMS
            else ""
        )
        raise StorageError(
            f"S3 refused to {action} {key!r}: {code or 'error'}{hint}",
            retryable=describe(e).retryable,  # throttling and 5xx: background work retries
        ) from e
    except BotoCoreError as e:
        raise StorageError(
            f"could not {action} {key!r} on S3: {type(e).__name__}",
            retryable=describe(e).retryable,  # network trouble
        ) from e


def s3_client_config(*, custom_endpoint: bool) -> Any:
    """SigV4 and adaptive retries; path-style addressing and checksums only when required for
    custom endpoints, which rarely serve virtual-host buckets or the newest checksum headers."""
    if not custom_endpoint:
        return client_config(signature_version="s3v4")
    return client_config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


class S3ObjectStore(ObjectStore):
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if not _BUCKET_NAME.fullmatch(bucket):
            raise InvalidInputError(f"{bucket!r} is not a valid S3 bucket name")
        self._client = client
        self._bucket = bucket
        self._prefix = validate_scope(prefix) if prefix else ""

    @classmethod
    def from_uri(cls, uri: str, options: StoreOptions) -> S3ObjectStore:
        parts = urlsplit(uri)
        if not parts.netloc or parts.query or parts.fragment:
            raise InvalidInputError(f"an S3 store URI looks like s3://bucket/prefix, got {uri!r}")
        if options.session_factory is not None:
            session = options.session_factory()
        else:
            session = make_session(region=options.s3_region)
        endpoint = options.s3_endpoint_url or None
        client = session.client(
            "s3",
            region_name=options.s3_region,
            endpoint_url=endpoint,
            config=s3_client_config(custom_endpoint=endpoint is not None),
        )
        return cls(client, parts.netloc, parts.path.strip("/"))

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.root_uri!r})"

    @property
    def client(self) -> Any:
        return self._client

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def root_uri(self) -> str:
        return f"s3://{self._bucket}/{self._prefix}"

    @property
    def max_key_bytes(self) -> int:
        return MAX_KEY_BYTES - len(self._prefix.encode())  # S3 counts the root prefix too

    def _uri(self, key: str) -> str:
        return self.root_uri + key

    def _full(self, key: str) -> str:
        return self._prefix + key

    def _call(self, action: str, key: str, operation: str, **params: Any) -> Any:
        with _s3_errors(action, key):
            return getattr(self._client, operation)(Bucket=self._bucket, **params)

    # -- reading ---------------------------------------------------------------------------

    def _head(self, key: str) -> ObjectInfo:
        meta = self._call("read", key, "head_object", Key=self._full(key))
        return ObjectInfo(
            key,
            meta["ContentLength"],
            normalize_etag(meta["ETag"]),
            meta["LastModified"],
            meta.get("ContentType"),
        )

    def _get(self, key: str, byte_range: tuple[int, int | None] | None) -> Iterator[bytes]:
        params: dict[str, Any] = {"Key": self._full(key)}
        if byte_range is not None:
            start, end = byte_range
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        response = self._call("read", key, "get_object", **params)
        return _stream_body(response["Body"], key)

    def _list(self, prefix: str, delimiter: str | None, cursor: str | None, limit: int) -> ListPage:
        params: dict[str, Any] = {"Prefix": self._full(prefix), "MaxKeys": limit}
        if delimiter:
            params["Delimiter"] = delimiter
        if cursor:
            params["ContinuationToken"] = cursor
        page = self._call("list", prefix, "list_objects_v2", **params)
        cut = len(self._prefix)
        objects = [
            ObjectInfo(
                item["Key"][cut:], item["Size"], normalize_etag(item["ETag"]), item["LastModified"]
            )
            for item in page.get("Contents", [])
        ]
        prefixes = [item["Prefix"][cut:] for item in page.get("CommonPrefixes", [])]
        next_cursor = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        return ListPage(objects=objects, common_prefixes=prefixes, next_cursor=next_cursor)

    # -- writing ---------------------------------------------------------------------------

    def _put(self, key: str, chunks: Iterator[bytes], content_type: str | None) -> ObjectInfo:
        # Small objects go in one request; anything past one part streams as a multipart
        # upload, so memory stays at about two parts whatever the object's size.
        reader = _ChunkReader(chunks)
        first = reader.read(PART_SIZE)
        second = reader.read(PART_SIZE) if len(first) == PART_SIZE else b""
        if not second:
            extra = {"ContentType": content_type} if content_type else {}
            self._call("write", key, "put_object", Key=self._full(key), Body=first, **extra)
            return self._head(key)
        return self._put_in_parts(key, [first, second], reader, content_type)

    def _put_in_parts(
        self, key: str, leading: list[bytes], reader: _ChunkReader, content_type: str | None
    ) -> ObjectInfo:
        upload_id = self._create_multipart(key, content_type, None)
        try:
            parts = []
            for number, data in enumerate(_parts(leading, reader), start=1):
                if number > MAX_PART_NUMBER:
                    raise InvalidInputError(f"{key!r} is too large for one S3 object")
                parts.append((number, self._upload_bytes(key, upload_id, number, data)))
            return self._complete_multipart(key, upload_id, parts, {})
        except BaseException:
            self._abort_quietly(key, upload_id)
            raise

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        # Cleaning up after a failure must not hide the failure itself.
        with suppress(MantleError):
            self._abort_multipart(key, upload_id)

    def _delete(self, key: str) -> None:
        self._call("delete", key, "delete_object", Key=self._full(key))

    def _copy(self, src_key: str, dst_key: str) -> ObjectInfo:
        source = self._head(src_key)
        copy_source = {"Bucket": self._bucket, "Key": self._full(src_key)}
        if source.size > SINGLE_COPY_LIMIT:
            self._copy_in_parts(source, copy_source, dst_key)
            return self._head(dst_key)
        done = self._call(
            "copy",
            src_key,
            "copy_object",
            Key=self._full(dst_key),
            CopySource=copy_source,
            MetadataDirective="COPY",
        )
        # The copy's own answer describes the new object: no second HEAD needed.
        result = done["CopyObjectResult"]
        etag, modified = normalize_etag(result["ETag"]), result["LastModified"]
        return ObjectInfo(dst_key, source.size, etag, modified, source.content_type)

    def _copy_in_parts(self, source: ObjectInfo, copy_source: dict, dst_key: str) -> None:
        upload_id = self._create_multipart(dst_key, source.content_type, None)
        try:
            parts = []
            for number, start in enumerate(range(0, source.size, COPY_PART_SIZE), start=1):
                end = min(start + COPY_PART_SIZE, source.size) - 1
                done = self._call(
                    "copy",
                    dst_key,
                    "upload_part_copy",
                    Key=self._full(dst_key),
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append((number, normalize_etag(done["CopyPartResult"]["ETag"])))
            self._complete_multipart(dst_key, upload_id, parts, {})
        except BaseException:
            self._abort_quietly(dst_key, upload_id)
            raise

    # -- presigned URLs --------------------------------------------------------------------

    def _presign(self, key: str, operation: str, expires_in: int, **params: Any) -> str:
        with _s3_errors("presign a URL for", key):
            return self._client.generate_presigned_url(
                operation,
                Params={"Bucket": self._bucket, "Key": self._full(key), **params},
                ExpiresIn=expires_in,
            )

    def _presign_get(self, key: str, expires_in: int, filename: str | None) -> str:
        # Always a download: a browser opening the URL must not render uploaded HTML or SVG.
        disposition = attachment_disposition(filename) if filename else "attachment"
        return self._presign(key, "get_object", expires_in, ResponseContentDisposition=disposition)

    def _presign_put(
        self, key: str, expires_in: int, content_type: str | None, crc32, create_only: bool
    ) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        if crc32:
            extra["ChecksumCRC32"] = crc32  # signed: S3 answers BadDigest to another body
        if create_only:
            extra["IfNoneMatch"] = "*"  # a signed header: S3 answers 412 if the key exists
        return self._presign(key, "put_object", expires_in, **extra)

    def _presign_part(self, key: str, upload_id: str, part_number: int, expires_in: int, crc32):
        extra = {"ChecksumCRC32": crc32} if crc32 else {}
        return self._presign(
            key, "upload_part", expires_in, UploadId=upload_id, PartNumber=part_number, **extra
        )

    # -- multipart uploads -----------------------------------------------------------------

    def _create_multipart(self, key: str, content_type: str | None, checksum: str | None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        if checksum == CRC32:
            # Per-part CRC32s, composed at completion (no pass over the whole object).
            extra["ChecksumAlgorithm"] = "CRC32"
        started = self._call(
            "start an upload for", key, "create_multipart_upload", Key=self._full(key), **extra
        )
        return started["UploadId"]

    def _upload_bytes(self, key: str, upload_id: str, part_number: int, body: Any) -> str:
        done = self._call(
            "upload a part of",
            key,
            "upload_part",
            Key=self._full(key),
            UploadId=upload_id,
            PartNumber=part_number,
            Body=body,
        )
        return normalize_etag(done["ETag"])

    def _upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterator[bytes]
    ) -> str:
        # botocore needs a seekable body (length, checksum); spill large parts to disk.
        with tempfile.SpooledTemporaryFile(max_size=PART_SIZE) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            return self._upload_bytes(key, upload_id, part_number, spool)

    def _list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        parts: list[PartInfo] = []
        marker = 0
        while True:
            page = self._call(
                "list the parts of",
                key,
                "list_parts",
                Key=self._full(key),
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
            parts += [
                PartInfo(
                    p["PartNumber"], p["Size"], normalize_etag(p["ETag"]), p.get("ChecksumCRC32")
                )
                for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    def _complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]], crc32: dict[int, str]
    ) -> ObjectInfo:
        listed = [
            {"PartNumber": number, "ETag": f'"{etag}"'}
            | ({"ChecksumCRC32": crc32[number]} if number in crc32 else {})
            for number, etag in parts
        ]
        self._call(
            "complete an upload for",
            key,
            "complete_multipart_upload",
            Key=self._full(key),
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )
        return self._head(key)

    def _abort_multipart(self, key: str, upload_id: str) -> None:
        with suppress(NotFoundError):  # already completed or aborted: aborting is idempotent
            self._call(
                "abort an upload for",
                key,
                "abort_multipart_upload",
                Key=self._full(key),
                UploadId=upload_id,
            )


class _ChunkReader:
    """Regroups a stream of arbitrary chunks into reads of an exact size."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def _parts(leading: list[bytes], reader: _ChunkReader) -> Iterator[bytes]:
    yield from leading
    number = len(leading)
    # Growing the part size keeps unbounded streams within S3's 10,000 parts.
    while data := reader.read(PART_SIZE * 2 ** (number // 1000)):
        number += 1
        yield data


def _stream_body(body: Any, key: str) -> Iterator[bytes]:
    try:
        with _s3_errors("read", key):
            yield from body.iter_chunks(CHUNK_SIZE)
    finally:
        body.close()
