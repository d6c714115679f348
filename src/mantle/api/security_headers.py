"""Security headers on every response, added by one pure ASGI middleware.

A route that needs another policy sets the header itself and the middleware leaves it alone:
stored objects get a sandbox CSP (`api/routes/storage.py`), `/docs` allows its one inline
script by hash (`api/docs.py`). The default CSP fits the server-rendered pages: styles,
scripts and form posts from this origin only, no plugins, no framing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mantle.settings import Settings

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The web app uploads and downloads straight to and from S3 with presigned URLs.
S3_ORIGINS = ("https://*.amazonaws.com",)
# A year, without includeSubDomains: other hosts of the domain are not ours to pin.
HSTS = "max-age=31536000"


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",  # pages and signed URLs never leak via Referer
        "Cross-Origin-Opener-Policy": "same-origin",
        "Content-Security-Policy": page_csp(settings),
    }
    if settings.public_url.startswith("https://"):
        # Only when users reach us over https: over plain http it would lock them out.
        headers["Strict-Transport-Security"] = HSTS
    return headers


def page_csp(settings: Settings) -> str:
    """The pages' CSP; `connect-src` adds S3 (and the configured S3-compatible endpoints of the
    server's store and of environments, moto in tests) for the web app's direct transfers."""
    origins = list(S3_ORIGINS)
    endpoints = (
        settings.storage.s3_endpoint_url,
        settings.aws.endpoint_urls.get("s3"),
        settings.aws.endpoint_url,
    )
    for url in endpoints:
        if url:
            parts = urlsplit(url)
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return f"{PAGE_CSP}; connect-src 'self' {' '.join(dict.fromkeys(origins))}"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
