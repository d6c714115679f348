"""HTTP plumbing shared by every resource: JSON in and out, API errors raised as Mantle's own
exception tree, network failures as ServiceUnavailableError."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from mantle.errors import ServiceUnavailableError, error_from_payload

USER_AGENT = "mantle-sdk"


class Http:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    def request(self, method: str, path: str, *, json: Any = None, params=None) -> Any:
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.TransportError as e:
            raise ServiceUnavailableError(
                f"cannot reach the Mantle server at {self._client.base_url}: {e}"
            ) from e
        if response.is_success:
            return response.json() if response.content else None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        raise error_from_payload(response.status_code, payload)

    def stream(self, method: str, path: str, *, params=None) -> Iterator[bytes]:
        """The response body in chunks, for downloads too large to hold in memory."""
        try:
            with self._client.stream(method, path, params=params) as response:
                if not response.is_success:
                    response.read()
                    try:
                        payload = response.json()
                    except ValueError:
                        payload = None
                    raise error_from_payload(response.status_code, payload)
                yield from response.iter_bytes()
        except httpx.TransportError as e:
            raise ServiceUnavailableError(
                f"cannot reach the Mantle server at {self._client.base_url}: {e}"
            ) from e

    def close(self) -> None:
        self._client.close()
