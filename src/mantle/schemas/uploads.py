"""Uploads: a dataset's files sent straight to object storage in parts, then verified."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from mantle.schemas.catalog import TYPE_NAME_PATTERN

MAX_SEGMENT_BYTES = 255  # a file or folder name on common file systems


class UploadFileSpec(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=1024,
        description="Path inside the dataset; each `/`-separated part at most 255 bytes.",
    )
    size: int = Field(ge=0, le=5 * 1024**4, description="Bytes (S3's limit: 5 TiB).")

    @field_validator("name")
    @classmethod
    def _segments(cls, name: str) -> str:
        # Downloads write each part as a file or folder name, which file systems cap.
        for segment in name.split("/"):
            size = len(segment.encode(errors="replace"))
            if size > MAX_SEGMENT_BYTES:
                shown = segment[:40] + "..."
                raise ValueError(
                    f"{shown!r} is {size} bytes long; a file or folder name may have at most "
                    f"{MAX_SEGMENT_BYTES}"
                )
        return name


class UploadCreate(BaseModel):
    name: str = Field(min_length=1, max_length=500, description="The dataset's name.")
    data_type: str = Field(pattern=TYPE_NAME_PATTERN)
    properties: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=100)
    files: list[UploadFileSpec] = Field(min_length=1, max_length=10_000)


class PartPublic(BaseModel):
    part_number: int
    size: int
    etag: str
    crc32: str | None = Field(None, description="Base64 CRC32, when storage reports it.")


class UploadFilePublic(BaseModel):
    id: uuid.UUID
    name: str
    size: int
    part_count: int
    multipart: bool
    checksum: str | None = Field(
        None,
        description="'crc32': send each part's CRC32 (base64 of the big-endian value) when "
        "asking for its URL; storage refuses a part that does not match.",
    )
    done: bool = Field(description="Verified and complete in storage.")
    parts: list[PartPublic] = Field(
        default_factory=list, description="Parts already stored (for resuming)."
    )


class UploadPublic(BaseModel):
    id: uuid.UUID
    status: str
    name: str
    data_type: str
    part_size: int
    files: list[UploadFilePublic]
    dataset_id: uuid.UUID | None = None
    created_at: datetime


class PartUrlsRequest(BaseModel):
    file_id: uuid.UUID
    part_numbers: list[int] = Field(min_length=1, max_length=1000)
    crc32: dict[int, str] = Field(
        default_factory=dict,
        description="Each part's CRC32 (base64); required for files whose `checksum` is "
        "'crc32', optional for a single-PUT file.",
    )


class PartUrls(BaseModel):
    file_id: uuid.UUID
    method: str = "PUT"
    urls: dict[int, str]
    headers: dict[int, dict[str, str]] = Field(
        default_factory=dict,
        description="Headers each PUT must send (the signed checksum), by part number.",
    )
    expires_in: int


class PartRef(BaseModel):
    file_id: uuid.UUID
    part_number: int = Field(ge=1, le=10_000)
    crc32: str | None = Field(None, description="The part's CRC32 (base64), see PartUrlsRequest.")


class PartUrlsBatchRequest(BaseModel):
    """Parts of any files of one upload (at most 1000 a request)."""

    parts: list[PartRef] = Field(min_length=1, max_length=1000)


class SignedPart(BaseModel):
    file_id: uuid.UUID
    part_number: int
    url: str
    headers: dict[str, str] = Field(default_factory=dict, description="Send these with the PUT.")


class PartUrlsBatch(BaseModel):
    method: str = "PUT"
    parts: list[SignedPart]
    expires_in: int


class UploadComplete(BaseModel):
    """Optional checksums of each part, checked against what storage reports: MD5 (hex,
    against the part's ETag) and CRC32 (base64), per file id and part number."""

    md5: dict[uuid.UUID, dict[int, str]] = Field(default_factory=dict)
    crc32: dict[uuid.UUID, dict[int, str]] = Field(default_factory=dict)


class DownloadLink(BaseModel):
    name: str
    size: int
    url: str
    expires_in: int
