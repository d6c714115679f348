"""The interactive API docs at `/docs`, served entirely from this server.

FastAPI's default page loads Swagger UI from a CDN, so `/docs` is blank offline and its page
would need a CSP that trusts the CDN. Here the assets come from the pinned `swagger-ui-py`
package (its `static/` folder is Swagger UI's dist), mounted under `/docs-assets`, following
FastAPI's documented custom-docs pattern. ReDoc is not served: no maintained package ships it.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs-assets"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def swagger_ui_dist() -> Path:
    # Located without importing the package: its __init__ loads web-framework adapters.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: reinstall Mantle")
    return Path(spec.submodule_search_locations[0]) / "static"


def docs_csp(page: bytes) -> str:
    """The page CSP plus the hash of the page's one inline script (Swagger UI's set-up)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def install_docs(app: FastAPI) -> None:
    """Call with an app created with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_dist()), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            # No calls to the public validator: the page stays same-origin.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = docs_csp(page.body)
        return page
